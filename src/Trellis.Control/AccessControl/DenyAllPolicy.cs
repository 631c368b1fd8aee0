using System.Net;
using Trellis.Control.Policy;
using Trellis.Core.Control;

namespace Trellis.Control.AccessControl;

/// <summary>
/// In force when a policy was configured but cannot be compiled at start-up: failing closed, since
/// falling back to allow-all would open every node to every other the moment a policy broke.
/// </summary>
public sealed class DenyAllPolicy : IAccessPolicy
{
    public static DenyAllPolicy Instance { get; } = new();

    private DenyAllPolicy()
    {
    }

    public bool AllowsAll => false;

    public int? RuleCount => 0;

    public IReadOnlySet<long> VisiblePeers(PolicyNode node, PolicyNodeSet nodes) => new HashSet<long>();

    public IReadOnlySet<long> NodesReaching(PolicyNode node, PolicyNodeSet nodes) => new HashSet<long>();

    public PacketFilter InboundFilter(PolicyNode node, PolicyNodeSet nodes) => PacketFilter.DenyAll;

    public bool MayApplyTag(string? user, string tag) => false;

    public bool AutoApprovesRoute(PolicyNode node, IPNetwork route) => false;
}
