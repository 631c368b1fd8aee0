using System.Text.Json;
using Trellis.Control.Mesh;
using Trellis.Control.Policy;
using Trellis.Core.Control;

namespace Trellis.ControlScale;

/// <summary>
/// Which nodes a change must reach, worked out with the server's own compiler: a node is affected by
/// a policy change when its visible peers or its inbound filter differ, and a node's entry reaches
/// exactly the nodes that may see it (visibility is mutual).
/// </summary>
internal static class PolicyExpectations
{
    /// <summary>The node as the server's policy sees it (the same conversion the mesh uses).</summary>
    public static PolicyNode NodeOf(PeerInfo peer) => PolicyNodes.From(peer);

    /// <summary>The ids of the nodes whose peer set or filter differs between the two policies.</summary>
    public static HashSet<long> Affected(IAccessPolicy before, IAccessPolicy after, IReadOnlyList<PolicyNode> nodes)
    {
        var set = new PolicyNodeSet(nodes);
        var affected = new HashSet<long>();
        foreach (var node in nodes)
        {
            if (before.AllowsAll != after.AllowsAll
                || !Filter(before, node, set).Equals(Filter(after, node, set), StringComparison.Ordinal)
                || !before.VisiblePeers(node, set).SetEquals(after.VisiblePeers(node, set)))
            {
                affected.Add(node.Id);
            }
        }

        return affected;
    }

    /// <summary>The ids of the nodes that may see <paramref name="node"/> (every other node when the policy allows all).</summary>
    public static HashSet<long> SeenBy(IAccessPolicy policy, PolicyNode node, IReadOnlyList<PolicyNode> nodes) =>
        policy.AllowsAll
            ? nodes.Where(n => n.Id != node.Id).Select(n => n.Id).ToHashSet()
            : [.. policy.VisiblePeers(node, new PolicyNodeSet(nodes))];

    private static string Filter(IAccessPolicy policy, PolicyNode node, PolicyNodeSet set) =>
        JsonSerializer.Serialize(policy.InboundFilter(node, set), typeof(PacketFilter), ControlJsonContext.Default);
}
