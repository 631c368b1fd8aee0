using Trellis.Core.Control;

namespace Trellis.Control.Policy;

/// <summary>A rule's sources over one node set: the prefixes a filter lists, and the nodes that count as peers.</summary>
internal sealed class RuleSources
{
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly List<string> _prefixes = [];

    /// <summary>The prefixes a filter lists, once <see cref="Seal"/>ed: one encoded list that every node's filter shares.</summary>
    public IReadOnlyList<string> Prefixes { get; private set; } = [];

    public HashSet<long> Nodes { get; } = [];

    public void AddPrefix(string prefix)
    {
        if (_seen.Add(prefix))
        {
            _prefixes.Add(prefix);
        }
    }

    /// <summary>Done adding: the prefixes become the shared, encoded list.</summary>
    public void Seal() => Prefixes = new EncodedStringList(_prefixes);

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
