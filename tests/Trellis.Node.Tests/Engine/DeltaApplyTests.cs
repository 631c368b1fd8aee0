using Trellis.Core.Control;
using Trellis.Core.Transport.InMemory;
using Trellis.Node.Control;
using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Engine;

/// <summary>
/// A node of many peers takes a one-peer delta with the delta's work, not the mesh's: told by what is
/// allocated (no more at ten times the peers) and by what the engine reconfigures, never by a clock.
/// </summary>
public sealed class DeltaApplyTests
{
    private const string MovedEndpoint = "198.51.100.2:41642";

    /// <summary>Peer <paramref name="i"/> of a large mesh: a distinct key and address for any i up to 65,535.</summary>
    private static PeerInfo Peer(int i, string? endpoint = null) => new()
    {
        Id = i,
        Name = $"peer{i}",
        NodeKey = Convert.ToBase64String([.. BitConverter.GetBytes((long)i), .. new byte[24]]),
        DiscoKey = Convert.ToBase64String([.. BitConverter.GetBytes((long)-i), .. new byte[24]]),
        Addresses = [$"100.64.{i / 256}.{i % 256}/32"],
        AllowedIps = [$"100.64.{i / 256}.{i % 256}/32"],
        Endpoints = [endpoint ?? $"198.51.{i / 256}.{i % 256}:41641"],
        Online = true,
    };

    private static FullMap Mesh(PeerInfo self, int peers) => new()
    {
        Self = self,
        Peers = [.. Enumerable.Range(2, peers).Select(i => Peer(i))],
        OverlayPrefixes = [TestMaps.OverlayV4, TestMaps.OverlayV6],
    };

    private static MapDelta Moved(bool there) => new() { PeersChanged = [Peer(2, there ? MovedEndpoint : null)] };

    private static long AllocatedBy(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void A_one_peer_delta_names_only_its_peer_and_builds_the_map_with_no_more_allocation_at_ten_times_the_peers()
    {
        long Cost(int peers)
        {
            var map = NetMapBuilder.FromFull(Mesh(Peer(1), peers));
            _ = NetMapBuilder.Apply(map, Moved(true)); // the first call's one-time costs
            NetMap next = null!;
            var bytes = AllocatedBy(() => next = NetMapBuilder.Apply(map, Moved(true)));
            Assert.Equal(map.Generation, next.Changes!.Base);
            Assert.Equal([2L], next.Changes.Peers);
            Assert.Equal([MovedEndpoint], next.Peers[2].Endpoints);
            return bytes;
        }

        var small = Cost(500);
        var large = Cost(5_000);
        Assert.True(large < small * 2, $"a one-peer delta allocated {large} bytes at 5,000 peers against {small} at 500");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_one_peer_delta_reconfigures_that_peer_alone_with_no_more_allocation_at_ten_times_the_peers(bool discovery)
    {
        async Task<long> CostAsync(int peers)
        {
            await using var node = new MemoryNode(new InMemoryNetwork(), 1, discovery: discovery);
            var map = NetMapBuilder.FromFull(Mesh(TestMaps.Peer(1, node.NodeKey), peers));
            await node.ApplyAsync(map);
            var osChanges = node.Os.Log.Count;

            // Moved and back once first (one-time costs), then measured; the engine's apply runs on the calling thread.
            foreach (var there in new[] { true, false })
            {
                map = NetMapBuilder.Apply(map, Moved(there));
                await node.ApplyAsync(map);
            }

            map = NetMapBuilder.Apply(map, Moved(true));
            var next = map;
            var bytes = AllocatedBy(() => node.ApplyAsync(next).GetAwaiter().GetResult());
            Assert.Equal(3, node.Engine.ChangeApplies);
            Assert.Equal(osChanges, node.Os.Log.Count);
            if (!discovery)
            {
                Assert.Equal(MovedEndpoint, node.DevicePeer(Peer(2).NodeKey)!.Endpoint?.ToString());
            }

            return bytes;
        }

        var small = await CostAsync(200);
        var large = await CostAsync(2_000);
        Assert.True(large < small * 2, $"a one-peer delta allocated {large} bytes at 2,000 peers against {small} at 200");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Deltas_that_add_remove_and_readdress_peers_are_applied_as_changes_and_leave_what_the_whole_map_would(bool discovery)
    {
        await using var node = new MemoryNode(new InMemoryNetwork(), 1, discovery: discovery);
        var self = TestMaps.Peer(1, node.NodeKey);
        var map = NetMapBuilder.FromFull(Mesh(self, 6));
        await node.ApplyAsync(map);
        var osChanges = node.Os.Log.Count;

        MapDelta[] deltas =
        [
            new() { PeersChanged = [Peer(9)] },

            // Peer 4 takes the address peer 3 gives up in the same delta.
            new() { PeersRemoved = [3], PeersChanged = [Peer(4) with { Addresses = ["100.64.0.3/32"], AllowedIps = ["100.64.0.3/32"] }] },
            new() { PeersRemoved = [5, 9], PeersChanged = [Peer(10), Peer(11), Peer(2, MovedEndpoint)] },
            new() { PeersRemoved = [6] },
        ];
        foreach (var (delta, i) in deltas.Select((d, i) => (d, i)))
        {
            map = NetMapBuilder.Apply(map, delta);
            await node.ApplyAsync(map);
            Assert.Equal(i + 1, node.Engine.ChangeApplies);
        }

        Assert.Equal(osChanges, node.Os.Log.Count);
        Assert.Null(node.DevicePeer(Peer(3).NodeKey));
        Assert.Null(node.DevicePeer(Peer(9).NodeKey));
        Assert.Null(node.DevicePeer(Peer(6).NodeKey));
        Assert.Equal(Peer(4).NodeKey, node.Device.AllowedIps.Lookup(System.Net.IPAddress.Parse("100.64.0.3"))?.PublicKey.ToBase64());
        Assert.Null(node.Device.AllowedIps.Lookup(System.Net.IPAddress.Parse("100.64.0.4")));

        await using var whole = new MemoryNode(new InMemoryNetwork(), 1, discovery: discovery);
        await whole.ApplyAsync(NetMapBuilder.FromFull(new FullMap
        {
            Self = TestMaps.Peer(1, whole.NodeKey),
            Peers = [.. map.Peers.Values],
            OverlayPrefixes = [TestMaps.OverlayV4, TestMaps.OverlayV6],
        }));
        Assert.Equal(Applied(whole, discovery), Applied(node, discovery));
    }

    [Fact]
    public async Task A_peer_added_by_a_delta_is_reached_through_the_tunnel()
    {
        var network = new InMemoryNetwork();
        await using var a = new MemoryNode(network, 1);
        await using var b = new MemoryNode(network, 2);
        var mapA = NetMapBuilder.FromFull(new FullMap
        {
            Self = a.Info(),
            Peers = [.. Enumerable.Range(3, 50).Select(i => Peer(i))],
            OverlayPrefixes = [TestMaps.OverlayV4, TestMaps.OverlayV6],
        });
        await a.ApplyAsync(mapA);
        var withB = NetMapBuilder.Apply(mapA, new MapDelta { PeersChanged = [b.Info()] });
        var mapB = TestMaps.Map(b.Info(), a.Info());

        // The node that waits before its first handshake learns of the other first (see InMemoryDataPlaneTests.ConnectAsync).
        if (WireGuardEngine.InitiatesFirst(a.Engine.PublicKey, b.Engine.PublicKey))
        {
            await b.ApplyAsync(mapB);
            await a.ApplyAsync(withB);
            Assert.NotNull(a.Send(b, "100.64.0.1", "100.64.0.2"));
        }
        else
        {
            await a.ApplyAsync(withB);
            await b.ApplyAsync(mapB);
            Assert.NotNull(b.Send(a, "100.64.0.2", "100.64.0.1"));
        }

        Assert.NotNull(a.Send(b, "fd7a:115c:a1e0::1", "fd7a:115c:a1e0::2"));
        Assert.Equal(1, a.Engine.ChangeApplies);
        Assert.Equal(2L, Assert.Single(a.Engine.Status().Peers, p => p.NodeKey == b.NodeKey).Id);
    }

    [Fact]
    public async Task A_delta_whose_peer_clashes_with_another_or_brings_a_route_reconciles_the_whole_map_and_says_why()
    {
        await using var node = new MemoryNode(new InMemoryNetwork(), 1);
        var map = NetMapBuilder.FromFull(Mesh(TestMaps.Peer(1, node.NodeKey), 3));
        await node.ApplyAsync(map);

        // Peer 9 claims peer 2's address: the lower id keeps it, as in a full map.
        map = NetMapBuilder.Apply(map, new MapDelta { PeersChanged = [Peer(9) with { Addresses = [.. Peer(2).Addresses, .. Peer(9).Addresses] }] });
        await node.ApplyAsync(map);
        Assert.Equal(Peer(2).NodeKey, node.Device.AllowedIps.Lookup(System.Net.IPAddress.Parse("100.64.0.2"))?.PublicKey.ToBase64());
        Assert.NotNull(node.DevicePeer(Peer(9).NodeKey));

        // A subnet route goes into the OS when routes are accepted.
        var routed = NetMapBuilder.Apply(map, new MapDelta { PeersChanged = [Peer(10) with { AllowedIps = [.. Peer(10).AllowedIps, "10.99.0.0/24"] }] });
        await node.ApplyAsync(routed, new EngineSettings { AcceptRoutes = true });
        Assert.Equal(Peer(10).NodeKey, node.Device.AllowedIps.Lookup(System.Net.IPAddress.Parse("10.99.0.1"))?.PublicKey.ToBase64());
        Assert.Equal(0, node.Engine.ChangeApplies);
    }

    [Fact]
    public async Task A_delta_that_adds_or_removes_a_peer_allocates_a_small_part_of_what_the_whole_map_does()
    {
        await using var node = new MemoryNode(new InMemoryNetwork(), 1, discovery: true);
        var full = Mesh(TestMaps.Peer(1, node.NodeKey), 2_000);
        var map = NetMapBuilder.FromFull(full);
        await node.ApplyAsync(map);

        // One-time costs first, then measured; the engine's apply runs on the calling thread.
        map = NetMapBuilder.Apply(map, new MapDelta { PeersChanged = [Peer(5_000)] });
        await node.ApplyAsync(map);
        map = NetMapBuilder.Apply(map, new MapDelta { PeersRemoved = [5_000] });
        await node.ApplyAsync(map);

        var added = NetMapBuilder.Apply(map, new MapDelta { PeersChanged = [Peer(5_001)] });
        var addBytes = AllocatedBy(() => node.ApplyAsync(added).GetAwaiter().GetResult());
        var removed = NetMapBuilder.Apply(added, new MapDelta { PeersRemoved = [5_001] });
        var removeBytes = AllocatedBy(() => node.ApplyAsync(removed).GetAwaiter().GetResult());
        Assert.Equal(4, node.Engine.ChangeApplies);

        var whole = NetMapBuilder.FromFull(full with { Peers = [.. full.Peers.Select(p => p with { })] });
        var wholeBytes = AllocatedBy(() => node.ApplyAsync(whole).GetAwaiter().GetResult());
        Assert.True(addBytes < wholeBytes / 10 && removeBytes < wholeBytes / 10, $"at 2,000 peers adding one allocated {addBytes} bytes and removing it {removeBytes}, the whole map {wholeBytes}");
    }

    /// <summary>What the device holds, peer by peer: key, allowed IPs, and the endpoint WireGuard sends to (without discovery; with it, a synthetic one that differs by node).</summary>
    private static List<string> Applied(MemoryNode node, bool discovery) =>
        [.. node.Engine.Status().Peers.Select(p =>
        {
            var peer = node.DevicePeer(p.NodeKey)!;
            var allowed = string.Join(",", node.Device.AllowedIps.EntriesFor(peer).Select(e => $"{e.Address}/{e.Cidr}").Order(StringComparer.Ordinal));
            return $"{p.Id} {p.NodeKey} {allowed} {(discovery ? "" : peer.Endpoint?.ToString())}";
        })];
}
