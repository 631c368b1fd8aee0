using Trellis.Core.Control;
using Trellis.Core.Transport.InMemory;
using Trellis.Node.Control;

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

    [Fact]
    public async Task A_delta_that_adds_a_peer_or_changes_addresses_reconciles_the_whole_map()
    {
        await using var node = new MemoryNode(new InMemoryNetwork(), 1);
        var map = NetMapBuilder.FromFull(Mesh(TestMaps.Peer(1, node.NodeKey), 3));
        await node.ApplyAsync(map);

        map = NetMapBuilder.Apply(map, new MapDelta { PeersChanged = [Peer(9)] });
        await node.ApplyAsync(map);
        Assert.NotNull(node.DevicePeer(Peer(9).NodeKey));

        map = NetMapBuilder.Apply(map, new MapDelta { PeersChanged = [Peer(2) with { Addresses = ["100.64.0.77/32"], AllowedIps = ["100.64.0.77/32"] }] });
        await node.ApplyAsync(map);
        Assert.Equal(Peer(2).NodeKey, node.Device.AllowedIps.Lookup(System.Net.IPAddress.Parse("100.64.0.77"))?.PublicKey.ToBase64());
        Assert.Equal(0, node.Engine.ChangeApplies);
    }
}
