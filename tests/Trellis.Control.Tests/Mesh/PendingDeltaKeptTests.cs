using Trellis.Control.Mesh;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Mesh;

/// <summary>
/// For a node that applies <see cref="MapDelta.PeersKept"/>, a loss of most peers goes out as the few
/// kept, and whatever is merged with it leaves the node with the same peers as the listed ids would.
/// </summary>
public class PendingDeltaKeptTests
{
    private static PeerInfo Peer(long id, string name = "", bool online = false) => new()
    {
        Id = id,
        Name = name.Length == 0 ? $"node{id}" : name,
        NodeKey = $"nodekey{id}",
        DiscoKey = $"disco{id}",
        Addresses = [$"100.64.0.{id}/32"],
        AllowedIps = [$"100.64.0.{id}/32"],
        Online = online,
    };

    private static MeshSnapshot MeshOf(IEnumerable<long> ids) => new([.. ids.Select(i => Peer(i))]);

    // Node 1's view of a mesh of nodes 1-6.
    private static readonly MeshSnapshot Mesh = MeshOf(Enumerable.Range(1, 6).Select(i => (long)i));

    /// <summary>A node applying a delta in the protocol's documented order (what Trellis.Node's NetMapBuilder does).</summary>
    private static void Apply(Dictionary<long, PeerInfo> peers, MapDelta delta)
    {
        foreach (var p in delta.PeersChanged)
        {
            peers[p.Id] = p;
        }

        if (delta.PeersKept is { } kept)
        {
            var keep = kept.Concat(delta.PeersChanged.Select(p => p.Id)).ToHashSet();
            foreach (var id in peers.Keys.Where(id => !keep.Contains(id)).ToList())
            {
                peers.Remove(id);
            }
        }

        foreach (var id in delta.PeersRemoved)
        {
            peers.Remove(id);
        }

        foreach (var patch in delta.Patches)
        {
            if (peers.TryGetValue(patch.Id, out var p))
            {
                peers[patch.Id] = p with { Online = patch.Online ?? p.Online };
            }
        }
    }

    private static string Describe(Dictionary<long, PeerInfo> peers) =>
        string.Join(",", peers.Values.OrderBy(p => p.Id).Select(p => $"{p.Id}:{p.Name}:{p.Online}"));

    [Fact]
    public void A_node_that_applies_kept_ids_is_sent_the_few_kept_and_no_removals()
    {
        var delta = new PendingDelta(appliesKept: true);

        delta.RemovedAll(new AllPeersExcept(Mesh, [4], self: 1));

        var taken = delta.Take();
        Assert.Equal([4L], taken.PeersKept);
        Assert.Empty(taken.PeersRemoved);
        Assert.True(delta.IsEmpty);
    }

    [Fact]
    public void When_the_removed_ids_are_fewer_than_the_kept_ones_they_are_sent_instead()
    {
        var delta = new PendingDelta(appliesKept: true);

        delta.RemovedAll(new AllPeersExcept(Mesh, [2, 3, 4], self: 1));

        var taken = delta.Take();
        Assert.Null(taken.PeersKept);
        Assert.Equal([5L, 6], taken.PeersRemoved.Order());
    }

    [Fact]
    public void A_node_that_did_not_announce_kept_ids_always_gets_the_removed_ids()
    {
        var delta = new PendingDelta();

        delta.RemovedAll(new AllPeersExcept(Mesh, [4], self: 1));

        var taken = delta.Take();
        Assert.Null(taken.PeersKept);
        Assert.Equal([2L, 3, 5, 6], taken.PeersRemoved.Order());
        Assert.Throws<InvalidOperationException>(() => delta.KeepOnly([4]));
    }

    [Fact]
    public void Single_peer_changes_after_the_kept_set_merge_with_it_without_listing_the_mesh()
    {
        var delta = new PendingDelta(appliesKept: true);
        delta.Patched(new PeerPatch { Id = 5, Online = true }, Peer(5, online: true)); // before: for a peer about to go
        delta.RemovedAll(new AllPeersExcept(Mesh, [2, 3], self: 1));

        delta.Changed(Peer(6, "now-visible"));
        delta.Removed(3);
        delta.Patched(new PeerPatch { Id = 2, Online = true }, Peer(2, online: true));
        delta.Patched(new PeerPatch { Id = 4, Online = true }, Peer(4, online: true)); // dropped: nothing to send

        var taken = delta.Take();
        Assert.Equal([2L], taken.PeersKept);
        Assert.Equal("now-visible", Assert.Single(taken.PeersChanged).Name);
        Assert.Empty(taken.PeersRemoved);
        Assert.Equal(2, Assert.Single(taken.Patches).Id);

        var node = Mesh.Peers.Where(p => p.Id != 1).ToDictionary(p => p.Id);
        Apply(node, taken);
        Assert.Equal("2:node2:True,6:now-visible:False", Describe(node));
    }

    [Fact]
    public void A_kept_set_queued_with_nothing_else_pending_still_merges_later_changes()
    {
        // The first policy's path: the kept ids are queued as they are, and a change before the take turns them into a set.
        var delta = new PendingDelta(appliesKept: true);
        delta.RemovedAll(new AllPeersExcept(Mesh, [2, 3], self: 1));
        Assert.False(delta.IsEmpty);

        delta.Removed(3);
        delta.Patched(new PeerPatch { Id = 5, Online = true }, Peer(5, online: true)); // not kept: dropped
        delta.Patched(new PeerPatch { Id = 2, Online = true }, Peer(2, online: true));

        var taken = delta.Take();
        Assert.Equal([2L], taken.PeersKept);
        Assert.Empty(taken.PeersRemoved);
        Assert.Equal(2, Assert.Single(taken.Patches).Id);
        Assert.True(delta.IsEmpty);
    }

    [Fact]
    public void Any_sequence_of_changes_leaves_a_node_applying_kept_ids_with_the_peers_of_one_applying_listed_ids()
    {
        // Fixed seed: the same sequences every run. Both pending deltas get the same changes; the two
        // nodes apply what each is sent and must agree after every send.
        var random = new Random(20261204);
        for (var run = 0; run < 200; run++)
        {
            var mesh = Enumerable.Range(1, 8).ToDictionary(i => (long)i, i => Peer(i));
            var kept = new PendingDelta(appliesKept: true);
            var listed = new PendingDelta();
            var keptNode = mesh.Values.Where(p => p.Id != 1).ToDictionary(p => p.Id);
            var listedNode = new Dictionary<long, PeerInfo>(keptNode);
            var log = new System.Text.StringBuilder();
            for (var step = 0; step < 30; step++)
            {
                var id = (long)random.Next(2, 12);
                var op = random.Next(6);
                log.Append($" op{op}:{id}");
                switch (op)
                {
                    case 0:
                        var changed = Peer(id, $"n{id}-{step}");
                        mesh[id] = changed;
                        kept.Changed(changed);
                        listed.Changed(changed);
                        break;
                    case 1:
                        if (random.Next(2) == 0)
                        {
                            mesh.Remove(id); // it left; otherwise only this node's view lost it
                        }

                        kept.Removed(id);
                        listed.Removed(id);
                        break;
                    case 2:
                        if (mesh.TryGetValue(id, out var current))
                        {
                            var online = current with { Online = !current.Online };
                            mesh[id] = online;
                            kept.Patched(new PeerPatch { Id = id, Online = online.Online }, online);
                            listed.Patched(new PeerPatch { Id = id, Online = online.Online }, online);
                        }

                        break;
                    case 3:
                        var snapshot = new MeshSnapshot(mesh.Values);
                        long[] few = [.. mesh.Keys.Where(k => k != 1 && random.Next(4) == 0)];
                        log.Append($"({string.Join(",", few)})");
                        kept.RemovedAll(new AllPeersExcept(snapshot, few, self: 1));
                        listed.RemovedAll(new AllPeersExcept(snapshot, few, self: 1));
                        break;
                    case 4:
                        var everyone = new MeshSnapshot(mesh.Values);
                        kept.ChangedAll(new AllPeersExcept(everyone, [], self: 1));
                        listed.ChangedAll(new AllPeersExcept(everyone, [], self: 1));
                        break;
                    default:
                        var k1 = kept.Take();
                        var l1 = listed.Take();
                        log.Append($" K[{string.Join(",", k1.PeersChanged.Select(p => p.Id))}|{(k1.PeersKept is null ? "-" : string.Join(",", k1.PeersKept))}|{string.Join(",", k1.PeersRemoved)}]");
                        log.Append($" L[{string.Join(",", l1.PeersChanged.Select(p => p.Id))}|{string.Join(",", l1.PeersRemoved)}]");
                        Apply(keptNode, k1);
                        Apply(listedNode, l1);
                        Assert.True(Describe(listedNode) == Describe(keptNode), log.ToString() + " => " + Describe(listedNode) + " vs " + Describe(keptNode));
                        break;
                }
            }

            Apply(keptNode, kept.Take());
            Apply(listedNode, listed.Take());
            Assert.Equal(Describe(listedNode), Describe(keptNode));
        }
    }
}
