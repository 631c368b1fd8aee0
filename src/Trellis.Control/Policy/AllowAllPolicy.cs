using System.Net;
using Trellis.Core.Control;

namespace Trellis.Control.Policy;

/// <summary>No policy configured: every node sees and reaches every other, any tag may be applied by an admin.</summary>
public sealed class AllowAllPolicy : IAccessPolicy
{
    public static AllowAllPolicy Instance { get; } = new();

    private AllowAllPolicy()
    {
    }

    public bool AllowsAll => true;

    public int? RuleCount => null;

    public IReadOnlySet<long> VisiblePeers(PolicyNode node, PolicyNodeSet nodes)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(nodes);
        return nodes.All.Where(n => n.Id != node.Id).Select(n => n.Id).ToHashSet();
    }

    public IReadOnlySet<long> NodesReaching(PolicyNode node, PolicyNodeSet nodes) => VisiblePeers(node, nodes);

    public PacketFilter InboundFilter(PolicyNode node, PolicyNodeSet nodes) => PacketFilter.AllowAll;

    public bool MayApplyTag(string? user, string tag) => true;

    public bool AutoApprovesRoute(PolicyNode node, IPNetwork route) => false;
}
