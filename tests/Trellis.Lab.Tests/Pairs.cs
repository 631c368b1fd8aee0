namespace Trellis.Lab.Tests;

/// <summary>
/// The implementation pairs every interop check runs over: each Trellis combination, plus
/// wireguard-go against itself as a sanity check of the harness.
/// </summary>
public static class Pairs
{
    private static readonly (Implementation A, Implementation B)[] AllPairs =
    [
        (Implementation.WireGuardGo, Implementation.Trellis),
        (Implementation.Trellis, Implementation.WireGuardGo),
        (Implementation.Trellis, Implementation.Trellis),
        (Implementation.WireGuardGo, Implementation.WireGuardGo),
    ];

    public static TheoryData<Implementation, Implementation> All
    {
        get
        {
            var data = new TheoryData<Implementation, Implementation>();
            foreach (var (a, b) in AllPairs)
            {
                data.Add(a, b);
            }

            return data;
        }
    }

    /// <summary>Pairs with at least one Trellis side (cases that need Trellis's test clock).</summary>
    public static TheoryData<Implementation, Implementation> WithTrellis
    {
        get
        {
            var data = new TheoryData<Implementation, Implementation>();
            foreach (var (a, b) in AllPairs)
            {
                if (a == Implementation.Trellis || b == Implementation.Trellis)
                {
                    data.Add(a, b);
                }
            }

            return data;
        }
    }

    public static TheoryData<Implementation, Implementation, Underlay> ByUnderlay
    {
        get
        {
            var data = new TheoryData<Implementation, Implementation, Underlay>();
            foreach (var (a, b) in AllPairs)
            {
                foreach (var underlay in Enum.GetValues<Underlay>())
                {
                    data.Add(a, b, underlay);
                }
            }

            return data;
        }
    }

    public static TheoryData<Implementation, Implementation, Underlay, Side> ByUnderlayAndInitiator
    {
        get
        {
            var data = new TheoryData<Implementation, Implementation, Underlay, Side>();
            foreach (var (a, b) in AllPairs)
            {
                foreach (var underlay in Enum.GetValues<Underlay>())
                {
                    foreach (var initiator in Enum.GetValues<Side>())
                    {
                        data.Add(a, b, underlay, initiator);
                    }
                }
            }

            return data;
        }
    }
}
