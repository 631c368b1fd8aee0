using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

/// <summary>
/// Whether two filters say the same thing, rule by rule. The records compare their lists by
/// reference, and a filter recomputed after an unrelated change is a new object with equal content:
/// sending it again would cost every node a filter rebuild for nothing.
/// </summary>
internal static class PacketFilterEquality
{
    public static bool Same(PacketFilter a, PacketFilter b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a.AllowsAll || b.AllowsAll)
        {
            return a.AllowsAll == b.AllowsAll;
        }

        if (a.Rules.Count != b.Rules.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Rules.Count; i++)
        {
            var x = a.Rules[i];
            var y = b.Rules[i];
            if (!x.Sources.SequenceEqual(y.Sources, StringComparer.Ordinal)
                || !x.Destinations.SequenceEqual(y.Destinations)
                || !x.Protocols.SequenceEqual(y.Protocols))
            {
                return false;
            }
        }

        return true;
    }
}
