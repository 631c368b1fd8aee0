using Trellis.Control.Mesh;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Mesh;

/// <summary>A queued "every peer but these" merges with later changes of single peers as if each had been queued alone.</summary>
public class PendingDeltaTests
{
    private static PeerInfo Peer(long id, string name = "") => new()
    {
        Id = id,
        Name = name.Length == 0 ? $"node{id}" : name,
        NodeKey = $"nodekey{id}",
        DiscoKey = $"disco{id}",
        Addresses = [$"100.64.0.{id}/32"],
        AllowedIps = [$"100.64.0.{id}/32"],
    };

    // Node 1's view of a mesh of nodes 1-6.
    private static readonly MeshSnapshot Mesh = new([.. Enumerable.Range(1, 6).Select(i => Peer(i))]);

    [Fact]
    public void A_node_losing_all_but_its_kept_peers_is_sent_those_ids_and_never_itself()
    {
        var delta = new PendingDelta();

        delta.RemovedAll(new AllPeersExcept(Mesh, [4, 2], self: 1));

        Assert.Equal([3L, 5, 6], delta.Take().PeersRemoved);
        Assert.True(delta.IsEmpty);
    }

    [Fact]
    public void A_peer_changed_after_a_bulk_removal_is_sent_in_full_and_no_longer_removed()
    {
        var delta = new PendingDelta();
        delta.RemovedAll(new AllPeersExcept(Mesh, [2], self: 1));

        delta.Changed(Peer(5, "renamed"));

        var taken = delta.Take();
        Assert.Equal([3L, 4, 6], taken.PeersRemoved.Order());
        Assert.Equal("renamed", Assert.Single(taken.PeersChanged).Name);
    }

    [Fact]
    public void A_policy_set_then_removed_before_the_writer_took_anything_sends_every_peer_and_removes_none()
    {
        var delta = new PendingDelta();
        delta.RemovedAll(new AllPeersExcept(Mesh, [2], self: 1));

        delta.ChangedAll(new AllPeersExcept(Mesh, [2], self: 1));

        var taken = delta.Take();
        Assert.Empty(taken.PeersRemoved);
        Assert.Equal([3L, 4, 5, 6], taken.PeersChanged.Select(p => p.Id).Order());
    }

    [Fact]
    public void A_patch_to_a_peer_a_removed_policy_gives_back_rides_on_its_full_entry()
    {
        var delta = new PendingDelta();
        delta.ChangedAll(new AllPeersExcept(Mesh, [], self: 1));
        var moved = Peer(3) with { Endpoints = ["203.0.113.7:41641"] };

        delta.Patched(new PeerPatch { Id = 3, Endpoints = moved.Endpoints }, moved);

        var taken = delta.Take();
        Assert.Empty(taken.Patches);
        Assert.Equal(["203.0.113.7:41641"], taken.PeersChanged.Single(p => p.Id == 3).Endpoints);
        Assert.Equal(5, taken.PeersChanged.Count);
    }
}
