using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

/// <summary>
/// What one connected node may see under the policy in force: the peers it may reach or be reached
/// by (null: every peer, as without a policy) and the inbound filter it was last sent. Cached so a
/// change is compared against it and only the difference goes out. Guarded by the mesh's view lock.
/// </summary>
internal sealed class NodeView(long self, PeerIdSet? visible, PacketFilter filter)
{
    public static NodeView Everything(long self) => new(self, null, PacketFilter.AllowAll);

    /// <summary>Null while no policy is in force: the node sees every peer. Often shared with the node's class, and may hold the node itself.</summary>
    public PeerIdSet? Visible { get; set; } = visible;

    public PacketFilter Filter { get; set; } = filter;

    /// <summary>The peer relays this node sees but may not use: their entries went out with the offer cleared (MeshState.PeerRelays.cs).</summary>
    public HashSet<long>? Withheld { get; set; }

    /// <summary>Whether <paramref name="peer"/> is among the peers this node sees (never itself under a policy).</summary>
    public bool Sees(long peer) => Visible is null || (peer != self && Visible.Contains(peer));
}
