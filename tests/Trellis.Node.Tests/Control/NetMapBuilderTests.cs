using Trellis.Core.Control;
using Trellis.Node.Control;
using Trellis.Node.Tests.State;

namespace Trellis.Node.Tests.Control;

public class NetMapBuilderTests
{
    [Fact]
    public void A_full_map_becomes_a_net_map_by_peer_id()
    {
        var self = SampleMaps.Peer(1, "self");
        var full = new FullMap { Self = self, Peers = [SampleMaps.Peer(2, "a"), SampleMaps.Peer(3, "b")], OverlayPrefixes = ["100.64.0.0/10"] };
        var map = NetMapBuilder.FromFull(full);
        Assert.Same(self, map.Self);
        Assert.Equal([2L, 3L], map.Peers.Keys.Order());
        Assert.Equal(["100.64.0.0/10"], map.OverlayPrefixes);
    }

    [Fact]
    public void A_delta_adds_changes_removes_and_patches_in_order_and_leaves_the_old_map_alone()
    {
        var before = NetMapBuilder.FromFull(new FullMap
        {
            Self = SampleMaps.Peer(1, "self"),
            Peers = [SampleMaps.Peer(2, "a"), SampleMaps.Peer(3, "b"), SampleMaps.Peer(4, "c")],
        });
        var renamed = before.Peers[2] with { Name = "a-renamed" };
        var newSelf = before.Self with { Addresses = ["100.64.0.99/32"] };
        var after = NetMapBuilder.Apply(before, new MapDelta
        {
            PeersChanged = [SampleMaps.Peer(5, "new"), renamed],
            PeersRemoved = [4],
            Patches =
            [
                new PeerPatch { Id = 3, Endpoints = ["203.0.113.7:41641"], Online = false },
                new PeerPatch { Id = 5, HomeRelay = 901 },
                new PeerPatch { Id = 4, Online = true }, // removed in this very delta: ignored
            ],
            Self = newSelf,
        });

        Assert.Equal([2L, 3L, 5L], after.Peers.Keys.Order());
        Assert.Equal("a-renamed", after.Peers[2].Name);
        Assert.Equal(["203.0.113.7:41641"], after.Peers[3].Endpoints);
        Assert.False(after.Peers[3].Online);
        Assert.Equal(before.Peers[3].HomeRelay, after.Peers[3].HomeRelay); // unset fields stay
        Assert.Equal(901, after.Peers[5].HomeRelay);
        Assert.Same(newSelf, after.Self);

        Assert.Equal([2L, 3L, 4L], before.Peers.Keys.Order());
        Assert.Equal("a", before.Peers[2].Name);
        Assert.True(before.Peers[3].Online);
    }

    [Fact]
    public void A_delta_with_peers_kept_leaves_only_those_and_the_changed_ones_before_removals_and_patches_apply()
    {
        var before = NetMapBuilder.FromFull(new FullMap
        {
            Self = SampleMaps.Peer(1, "self"),
            Peers = [.. Enumerable.Range(2, 9).Select(i => SampleMaps.Peer(i, $"p{i}"))], // peers 2-10
        });

        var after = NetMapBuilder.Apply(before, new MapDelta
        {
            PeersChanged = [SampleMaps.Peer(11, "new"), before.Peers[5] with { Name = "p5-renamed" }],
            PeersKept = [3, 4, 42], // 42: a peer this node never had adds nothing
            PeersRemoved = [4],
            Patches = [new PeerPatch { Id = 3, Online = false }, new PeerPatch { Id = 6, Online = false }],
        });

        Assert.Equal([3L, 5, 11], after.Peers.Keys.Order());
        Assert.Equal("p5-renamed", after.Peers[5].Name);
        Assert.False(after.Peers[3].Online);
        Assert.Equal(9, before.Peers.Count);

        // Without it (null), nothing is dropped but what is listed.
        Assert.Equal(9, NetMapBuilder.Apply(before, new MapDelta { PeersRemoved = [42] }).Peers.Count);

        // An empty kept set leaves only the changed peers.
        Assert.Equal([11L], NetMapBuilder.Apply(before, new MapDelta { PeersChanged = [SampleMaps.Peer(11, "new")], PeersKept = [] }).Peers.Keys);
    }

    [Fact]
    public void The_packet_filter_comes_with_the_full_map_and_a_delta_changes_it_only_when_it_carries_one()
    {
        var policy = new PacketFilter { Rules = [new FilterRule { Sources = ["100.64.0.2/32"], Destinations = [new FilterDestination { Prefix = "100.64.0.1/32" }] }] };
        var older = NetMapBuilder.FromFull(new FullMap { Self = SampleMaps.Peer(1, "self"), Peers = [] });
        Assert.True(older.PacketFilter.AllowsAll); // a server without policies sends none

        var map = NetMapBuilder.FromFull(new FullMap { Self = SampleMaps.Peer(1, "self"), Peers = [], PacketFilter = policy });
        Assert.Same(policy, map.PacketFilter);

        map = NetMapBuilder.Apply(map, new MapDelta { PeersChanged = [SampleMaps.Peer(2, "a")] });
        Assert.Same(policy, map.PacketFilter);

        map = NetMapBuilder.Apply(map, new MapDelta { PacketFilter = PacketFilter.DenyAll });
        Assert.Same(PacketFilter.DenyAll, map.PacketFilter);

        map = NetMapBuilder.Apply(map, new MapDelta { PacketFilter = PacketFilter.AllowAll });
        Assert.True(map.PacketFilter.AllowsAll);
    }

    [Fact]
    public void The_replicas_urls_of_a_full_map_are_kept_checked_and_a_delta_replaces_them_only_when_it_names_them()
    {
        var map = NetMapBuilder.FromFull(new FullMap
        {
            Self = SampleMaps.Peer(1, "self"),
            Peers = [],
            Replicas =
            [
                "https://a.example.com", "ftp://b.example.com", "not a url", "/relative", "https://a.example.com/",
                "http://10.0.0.2:8080", "https://" + new string('x', ReplicaUrls.MaxLength) + ".example.com",
            ],
        });
        Assert.Equal([new Uri("https://a.example.com/"), new Uri("http://10.0.0.2:8080/")], map.Replicas);

        var unchanged = NetMapBuilder.Apply(map, new MapDelta { PeersRemoved = [7] });
        Assert.Equal(map.Replicas, unchanged.Replicas);

        var moved = NetMapBuilder.Apply(map, new MapDelta { Replicas = ["http://10.0.0.3:8080"] });
        Assert.Equal([new Uri("http://10.0.0.3:8080/")], moved.Replicas);

        var tooMany = NetMapBuilder.FromFull(new FullMap
        {
            Self = SampleMaps.Peer(1, "self"),
            Peers = [],
            Replicas = [.. Enumerable.Range(1, ReplicaUrls.MaxCount + 5).Select(i => $"http://10.0.1.{i}:8080")],
        });
        Assert.Equal(ReplicaUrls.MaxCount, tooMany.Replicas.Count);

        // A single server (or an older one) names none.
        Assert.Empty(NetMapBuilder.FromFull(new FullMap { Self = SampleMaps.Peer(1, "self"), Peers = [] }).Replicas);
    }

    [Fact]
    public void A_resuming_delta_brings_the_new_replicas_relay_map_and_other_deltas_leave_it()
    {
        var before = new RelayMap { Regions = [new RelayRegion { Id = 900, Code = "a" }] };
        var after = new RelayMap { Regions = [new RelayRegion { Id = 900, Code = "b" }] };
        var map = NetMapBuilder.FromFull(new FullMap { Self = SampleMaps.Peer(1, "self"), Peers = [], RelayMap = before });

        Assert.Same(before, NetMapBuilder.Apply(map, new MapDelta { PeersRemoved = [7] }).RelayMap);
        Assert.Same(after, NetMapBuilder.Apply(map, new MapDelta { RelayMap = after }).RelayMap);
    }
}
