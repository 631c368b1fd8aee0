namespace Trellis.Control.Policy;

/// <summary>
/// Every active node, indexed the ways a policy names them (by id, user and tag), built once per
/// membership change so compiling a node's view never scans the whole network per rule.
/// </summary>
public sealed class PolicyNodeSet
{
    private static readonly IReadOnlyList<PolicyNode> None = [];
    private readonly Dictionary<long, PolicyNode> _byId;
    private readonly Dictionary<string, List<PolicyNode>> _byUser;
    private readonly Dictionary<string, List<PolicyNode>> _byTag;
    private readonly Dictionary<string, List<PolicyNode>> _byGroup;

    public PolicyNodeSet(IEnumerable<PolicyNode> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        _byId = [];
        _byUser = new(StringComparer.OrdinalIgnoreCase);
        _byTag = new(StringComparer.OrdinalIgnoreCase);
        _byGroup = new(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            _byId[node.Id] = node;
            if (node.IsTagged)
            {
                foreach (var tag in node.Tags)
                {
                    Add(_byTag, tag, node);
                }
            }
            else if (node.User is { } user)
            {
                Add(_byUser, user, node);
                foreach (var group in node.Groups)
                {
                    Add(_byGroup, group, node);
                }
            }
        }
    }

    public static PolicyNodeSet Empty { get; } = new([]);

    public int Count => _byId.Count;

    public IEnumerable<PolicyNode> All => _byId.Values;

    public PolicyNode? Get(long id) => _byId.GetValueOrDefault(id);

    /// <summary>The untagged nodes a user owns (a tagged node is owned by its tags, not its user).</summary>
    public IReadOnlyList<PolicyNode> OwnedBy(string user) => _byUser.TryGetValue(user, out var list) ? list : None;

    /// <summary>The untagged nodes whose owners the identity provider puts in the group ("group:eng").</summary>
    public IReadOnlyList<PolicyNode> InGroup(string group) => _byGroup.TryGetValue(group, out var list) ? list : None;

    public IReadOnlyList<PolicyNode> Tagged(string tag) => _byTag.TryGetValue(tag, out var list) ? list : None;

    private static void Add(Dictionary<string, List<PolicyNode>> index, string key, PolicyNode node)
    {
        if (!index.TryGetValue(key, out var list))
        {
            index[key] = list = [];
        }

        list.Add(node);
    }
}
