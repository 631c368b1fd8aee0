namespace Trellis.Control.Policy;

/// <summary>A rule's sources over one node set: the prefixes a filter lists, and the nodes that count as peers.</summary>
internal sealed class RuleSources
{
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly List<string> _prefixes = [];

    public IReadOnlyList<string> Prefixes => _prefixes;

    public HashSet<long> Nodes { get; } = [];

    public void AddPrefix(string prefix)
    {
        if (_seen.Add(prefix))
        {
            _prefixes.Add(prefix);
        }
    }

    public void AddNode(PolicyNode node, bool addAddresses)
    {
        Nodes.Add(node.Id);
        if (addAddresses)
        {
            AddPrefix(PolicyPrefixes.HostText(node.IPv4));
            AddPrefix(PolicyPrefixes.HostText(node.IPv6));
        }
    }
}
