namespace Trellis.Control.Policy;

/// <summary>
/// Whether two compiled rules grant the same thing to the same nodes: same position, protocols,
/// and sources and destinations resolved to the same users, tags and prefixes with the same ports.
/// Groups are compared by their members, so a group edited in "groups" changes every rule naming it.
/// </summary>
internal static class RuleEquality
{
    public static bool Same(CompiledRule a, CompiledRule b) =>
        a.Index == b.Index
        && a.Protocols.SequenceEqual(b.Protocols)
        && a.Sources.Count == b.Sources.Count
        && a.Sources.Zip(b.Sources).All(pair => Same(pair.First, pair.Second))
        && a.Destinations.Count == b.Destinations.Count
        && a.Destinations.Zip(b.Destinations).All(pair => Same(pair.First.Selector, pair.Second.Selector) && pair.First.Ports.SequenceEqual(pair.Second.Ports));

    private static bool Same(Selector a, Selector b) =>
        a.Kind == b.Kind
        && string.Equals(a.Text, b.Text, StringComparison.Ordinal)
        && string.Equals(a.Tag, b.Tag, StringComparison.Ordinal)
        && a.Prefix.Equals(b.Prefix)
        && a.Users.SetEquals(b.Users);
}
