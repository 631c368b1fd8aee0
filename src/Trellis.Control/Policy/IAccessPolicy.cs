using System.Net;
using Trellis.Core.Control;

namespace Trellis.Control.Policy;

/// <summary>
/// A policy in force, compiled once per change. The mesh asks it, per node, which peers the node may
/// see (those it may reach and those that may reach it) and which packets the node lets in; the
/// admin paths ask it who may put a tag on a node and which routes are approved without an admin.
/// </summary>
public interface IAccessPolicy
{
    /// <summary>True when no policy is configured: everyone reaches everyone, as before policies.</summary>
    bool AllowsAll { get; }

    /// <summary>How many rules the policy holds, for the log and the API; null when it has no rules to count (no policy).</summary>
    int? RuleCount { get; }

    /// <summary>The ids of the peers <paramref name="node"/> may see, never itself: a new set, which the caller may keep and change.</summary>
    IReadOnlySet<long> VisiblePeers(PolicyNode node, PolicyNodeSet nodes);

    /// <summary>
    /// The same peers as one set shared by every node that sees alike (its class), perhaps with
    /// <paramref name="node"/> itself among them: for keeping, never for changing. A policy without
    /// classes answers <see cref="VisiblePeers"/>.
    /// </summary>
    IReadOnlySet<long> ClassPeers(PolicyNode node, PolicyNodeSet nodes) => VisiblePeers(node, nodes);

    /// <summary>
    /// The ids of the nodes that may reach <paramref name="node"/> on some port (the sources of its
    /// inbound filter), never itself: a new set. Those are the nodes that may use it as a peer relay.
    /// </summary>
    IReadOnlySet<long> NodesReaching(PolicyNode node, PolicyNodeSet nodes);

    /// <summary>The filter <paramref name="node"/> enforces on packets from its peers.</summary>
    PacketFilter InboundFilter(PolicyNode node, PolicyNodeSet nodes);

    /// <summary>Whether <paramref name="user"/> (null: an admin acting without a user) may put <paramref name="tag"/> on a node (tagOwners).</summary>
    bool MayApplyTag(string? user, string tag);

    /// <summary>Whether an advertised route of this node is approved by an autoApprovers entry.</summary>
    bool AutoApprovesRoute(PolicyNode node, IPNetwork route);
}
