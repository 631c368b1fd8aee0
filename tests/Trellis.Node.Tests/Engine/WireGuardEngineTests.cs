using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Engine;

/// <summary>The reconcile logic against a <see cref="RecordingNetworkConfig"/> and in-memory devices.</summary>
public sealed class WireGuardEngineTests : IAsyncLifetime
{
    private readonly InMemoryNetwork _network = new();
    private MemoryNode _a = null!;

    public Task InitializeAsync()
    {
        _a = new MemoryNode(_network, 1);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _a.DisposeAsync();

    private RecordingNetworkConfig Os => _a.Os;

    private static string Key() => TestMaps.PublicOf(TestMaps.NewPrivateKey());

    /// <summary>A fresh public key that sorts after (or before) <paramref name="own"/>.</summary>
    private static string KeySorting(Trellis.Core.Keys.Key own, bool later)
    {
        while (true)
        {
            var key = Key();
            if (WireGuardEngine.InitiatesFirst(own, Trellis.Core.Keys.Key.FromBase64(key)) == later)
            {
                return key;
            }
        }
    }

    [Fact]
    public async Task The_tun_gets_its_mtu_addresses_and_only_the_overlay_routes()
    {
        await _a.ApplyAsync(TestMaps.Map(_a.Info(), TestMaps.Peer(2, Key(), routes: ["192.168.50.0/24"])));

        Assert.Equal(EngineOptions.DefaultMtu, Os.LinkMtu("trellis0"));
        Assert.Equal(["100.64.0.1/32", "fd7a:115c:a1e0::1/128"], Os.Addresses("trellis0"));
        Assert.Equal([TestMaps.OverlayV4, TestMaps.OverlayV6], Os.Routes("trellis0"));
        Assert.Null(_a.Device.AllowedIps.Lookup(IPAddress.Parse("192.168.50.1")));
    }

    [Fact]
    public async Task Applying_the_same_map_again_changes_nothing()
    {
        var map = TestMaps.Map(_a.Info(), TestMaps.Peer(2, Key()), TestMaps.Peer(3, Key()));
        await _a.ApplyAsync(map);
        var peers = _a.Device.Peers.ToHashSet();
        Os.ClearLog();

        await _a.ApplyAsync(map);

        Assert.Empty(Os.Log);
        Assert.True(peers.SetEquals(_a.Device.Peers));
    }

    [Fact]
    public async Task Changed_own_addresses_replace_the_old_ones()
    {
        await _a.ApplyAsync(TestMaps.Map(_a.Info()));
        Os.ClearLog();

        await _a.ApplyAsync(TestMaps.Map(_a.Info() with { Addresses = ["100.64.0.9/32", "fd7a:115c:a1e0::1/128"] }));

        Assert.Equal(["100.64.0.9/32", "fd7a:115c:a1e0::1/128"], Os.Addresses("trellis0"));
        Assert.Equal(["address del 100.64.0.1/32 dev trellis0", "address add 100.64.0.9/32 dev trellis0"], Os.Log);
    }

    [Fact]
    public async Task Accepting_routes_installs_subnet_routes_and_allowed_ips_and_withdrawing_removes_them()
    {
        var peerKey = Key();
        var map = TestMaps.Map(_a.Info(), TestMaps.Peer(2, peerKey, routes: ["192.168.50.0/24"]));
        await _a.ApplyAsync(map);
        var peer = _a.DevicePeer(peerKey);

        await _a.ApplyAsync(map, new EngineSettings { AcceptRoutes = true });
        Assert.Contains("192.168.50.0/24", Os.Routes("trellis0"));
        Assert.Same(peer, _a.Device.AllowedIps.Lookup(IPAddress.Parse("192.168.50.1")));

        await _a.ApplyAsync(map, new EngineSettings { AcceptRoutes = false });
        Assert.Equal([TestMaps.OverlayV4, TestMaps.OverlayV6], Os.Routes("trellis0"));
        Assert.Null(_a.Device.AllowedIps.Lookup(IPAddress.Parse("192.168.50.1")));
        Assert.Same(peer, _a.DevicePeer(peerKey));
        Assert.Same(peer, _a.Device.AllowedIps.Lookup(IPAddress.Parse("100.64.0.2")));
    }

    [Fact]
    public async Task A_peer_route_covering_this_nodes_advertised_prefix_is_not_installed()
    {
        var settings = new EngineSettings { AcceptRoutes = true, AdvertisedRoutes = ["192.168.1.0/24"] };
        await _a.ApplyAsync(TestMaps.Map(_a.Info(), TestMaps.Peer(2, Key(), routes: ["192.168.0.0/16", "10.9.0.0/16"])), settings);

        Assert.Equal(["10.9.0.0/16", TestMaps.OverlayV4, TestMaps.OverlayV6], Os.Routes("trellis0"));
        Assert.Null(_a.Device.AllowedIps.Lookup(IPAddress.Parse("192.168.1.1")));
    }

    [Fact]
    public async Task Peers_are_added_and_removed_with_the_map_and_their_allowed_ips_with_them()
    {
        string b = Key(), c = Key();
        await _a.ApplyAsync(TestMaps.Map(_a.Info(), TestMaps.Peer(2, b), TestMaps.Peer(3, c)));
        Assert.Equal(2, _a.Device.Peers.Count);
        var peerC = _a.DevicePeer(c)!;
        Assert.Equal("192.0.2.3:41641", peerC.Endpoint.ToString());

        await _a.ApplyAsync(TestMaps.Map(_a.Info(), TestMaps.Peer(3, c)));

        Assert.Null(_a.DevicePeer(b));
        Assert.Same(peerC, _a.DevicePeer(c));
        Assert.Null(_a.Device.AllowedIps.Lookup(IPAddress.Parse("100.64.0.2")));
        Assert.Null(_a.Device.AllowedIps.Lookup(IPAddress.Parse("fd7a:115c:a1e0::2")));
        Assert.Same(peerC, _a.Device.AllowedIps.Lookup(IPAddress.Parse("100.64.0.3")));
        Assert.Equal([3L], _a.Engine.Status().Peers.Select(p => p.Id));
    }

    [Fact]
    public async Task Keepalives_start_at_once_toward_a_peer_whose_key_sorts_later_and_after_the_stagger_otherwise()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20000));
        await using var node = new MemoryNode(_network, 8, time);
        var own = Trellis.Core.Keys.Key.FromBase64(node.NodeKey);
        var later = KeySorting(own, later: true);
        var earlier = KeySorting(own, later: false);

        await node.ApplyAsync(TestMaps.Map(node.Info(), TestMaps.Peer(2, later), TestMaps.Peer(3, earlier)));
        Assert.Equal(WireGuardEngine.PersistentKeepaliveSeconds, node.DevicePeer(later)!.PersistentKeepaliveInterval);
        Assert.Equal(0, node.DevicePeer(earlier)!.PersistentKeepaliveInterval);

        time.Advance(WireGuardEngine.KeepaliveStagger);
        Assert.Equal(WireGuardEngine.PersistentKeepaliveSeconds, node.DevicePeer(earlier)!.PersistentKeepaliveInterval);
    }

    [Fact]
    public async Task A_peer_whose_key_changed_is_replaced_and_keeps_its_addresses()
    {
        string oldKey = Key(), newKey = Key();
        await _a.ApplyAsync(TestMaps.Map(_a.Info(), TestMaps.Peer(2, oldKey)));

        await _a.ApplyAsync(TestMaps.Map(_a.Info(), TestMaps.Peer(2, newKey)));

        Assert.Null(_a.DevicePeer(oldKey));
        var peer = Assert.Single(_a.Device.Peers);
        Assert.Equal(newKey, peer.PublicKey.ToBase64());
        Assert.Same(peer, _a.Device.AllowedIps.Lookup(IPAddress.Parse("100.64.0.2")));
        Assert.Equal(newKey, Assert.Single(_a.Engine.Status().Peers).NodeKey);
    }

    [Fact]
    public async Task A_prefix_moving_between_peers_follows_the_map()
    {
        string b = Key(), c = Key();
        await _a.ApplyAsync(
            TestMaps.Map(_a.Info(), TestMaps.Peer(2, b, routes: ["10.5.0.0/16"]), TestMaps.Peer(3, c)),
            new EngineSettings { AcceptRoutes = true });

        await _a.ApplyAsync(
            TestMaps.Map(_a.Info(), TestMaps.Peer(2, b), TestMaps.Peer(3, c, routes: ["10.5.0.0/16"])),
            new EngineSettings { AcceptRoutes = true });

        Assert.Same(_a.DevicePeer(c), _a.Device.AllowedIps.Lookup(IPAddress.Parse("10.5.1.1")));
        Assert.Equal(["100.64.0.2/32", "fd7a:115c:a1e0::2/128"], _a.Device.AllowedIps.NetworksFor(_a.DevicePeer(b)!).Select(n => n.ToString()));
    }

    [Fact]
    public async Task A_new_endpoint_in_the_map_moves_the_peer_but_an_unchanged_map_leaves_a_roamed_endpoint_alone()
    {
        var key = Key();
        await _a.ApplyAsync(TestMaps.Map(_a.Info(), TestMaps.Peer(2, key, endpoints: ["192.0.2.2:41641"])));
        var peer = _a.DevicePeer(key)!;

        peer.SetEndpoint(Endpoint.FromIPEndPoint(IPEndPoint.Parse("198.51.100.2:5000"))); // as roaming would
        await _a.ApplyAsync(TestMaps.Map(_a.Info(), TestMaps.Peer(2, key, endpoints: ["192.0.2.2:41641"])));
        Assert.Equal("198.51.100.2:5000", peer.Endpoint.ToString());

        await _a.ApplyAsync(TestMaps.Map(_a.Info(), TestMaps.Peer(2, key, endpoints: ["[2001:db8::2]:41641", "192.0.2.22:41641"])));
        Assert.Equal("192.0.2.22:41641", peer.Endpoint.ToString());

        await _a.ApplyAsync(TestMaps.Map(_a.Info(endpoints: ["[2001:db8::1]:41641"]), TestMaps.Peer(2, key, endpoints: ["[2001:db8::2]:41641", "192.0.2.22:41641"])));
        Assert.Equal("[2001:db8::2]:41641", peer.Endpoint.ToString());
        Assert.Same(peer, _a.DevicePeer(key));
    }

    [Fact]
    public async Task An_approved_advertised_route_turns_on_forwarding_and_masquerade_until_it_is_withdrawn()
    {
        var settings = new EngineSettings { AdvertisedRoutes = ["192.168.1.0/24"] };
        await _a.ApplyAsync(TestMaps.Map(_a.Info()), settings);
        Assert.False(Os.IsForwardingEnabled(AddressFamily.InterNetwork));
        Assert.Null(Os.Masquerade("trellis_trellis0"));

        await _a.ApplyAsync(TestMaps.Map(_a.Info(routes: ["192.168.1.0/24"])), settings);
        Assert.True(Os.IsForwardingEnabled(AddressFamily.InterNetwork));
        Assert.False(Os.IsForwardingEnabled(AddressFamily.InterNetworkV6));
        var rule = Assert.Single(Os.Masquerade("trellis_trellis0")!);
        Assert.Equal("100.64.0.0/10 -> 192.168.1.0/24", rule.ToString());

        Os.ClearLog();
        await _a.ApplyAsync(TestMaps.Map(_a.Info(routes: ["192.168.1.0/24"])), settings);
        Assert.Empty(Os.Log);

        await _a.ApplyAsync(TestMaps.Map(_a.Info()), settings);
        Assert.False(Os.IsForwardingEnabled(AddressFamily.InterNetwork));
        Assert.Null(Os.Masquerade("trellis_trellis0"));
    }

    [Fact]
    public async Task Forwarding_that_was_on_already_is_left_on()
    {
        await using var node = new MemoryNode(_network, 7, os: new RecordingNetworkConfig(ipv4Forwarding: true));
        var settings = new EngineSettings { AdvertisedRoutes = ["192.168.1.0/24"], Masquerade = false };
        await node.ApplyAsync(TestMaps.Map(node.Info(routes: ["192.168.1.0/24"])), settings);
        await node.ApplyAsync(TestMaps.Map(node.Info()), settings);
        await node.DisposeAsync();

        Assert.True(node.Os.IsForwardingEnabled(AddressFamily.InterNetwork));
        Assert.DoesNotContain(node.Os.Log, l => l.StartsWith("forwarding", StringComparison.Ordinal) || l.StartsWith("masquerade", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dispose_removes_the_masquerade_table_restores_forwarding_and_releases_the_os_config()
    {
        var settings = new EngineSettings { AdvertisedRoutes = ["192.168.1.0/24", "fd00:1::/64"] };
        await _a.ApplyAsync(TestMaps.Map(_a.Info(routes: ["192.168.1.0/24", "fd00:1::/64"]), TestMaps.Peer(2, Key())), settings);
        Assert.True(Os.IsForwardingEnabled(AddressFamily.InterNetworkV6));

        await _a.DisposeAsync();

        Assert.False(Os.IsForwardingEnabled(AddressFamily.InterNetwork));
        Assert.False(Os.IsForwardingEnabled(AddressFamily.InterNetworkV6));
        Assert.Null(Os.Masquerade("trellis_trellis0"));
        Assert.True(Os.IsDisposed);
        Assert.Empty(_a.Engine.Status().Peers);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _a.ApplyAsync(TestMaps.Map(_a.Info())));
    }

    [Fact]
    public async Task A_failed_change_is_reported_the_rest_applied_and_the_failure_retried_next_time()
    {
        Os.FailWhen = op => op.StartsWith("route add 10.9.", StringComparison.Ordinal);
        var map = TestMaps.Map(_a.Info(), TestMaps.Peer(2, Key(), routes: ["10.9.0.0/16"]));
        var settings = new EngineSettings { AcceptRoutes = true };

        var error = await Assert.ThrowsAsync<AggregateException>(() => _a.ApplyAsync(map, settings));
        Assert.Contains("route add 10.9.0.0/16", Assert.Single(error.InnerExceptions).Message, StringComparison.Ordinal);
        Assert.Equal([TestMaps.OverlayV4, TestMaps.OverlayV6], Os.Routes("trellis0"));
        Assert.Single(_a.Device.Peers);

        Os.FailWhen = null;
        await _a.ApplyAsync(map, settings);
        Assert.Contains("10.9.0.0/16", Os.Routes("trellis0"));
    }

    [Fact]
    public async Task Status_shows_no_path_for_a_peer_without_a_handshake()
    {
        var key = Key();
        await _a.ApplyAsync(TestMaps.Map(_a.Info(), TestMaps.Peer(2, key, endpoints: []), TestMaps.Peer(3, Key(), endpoints: ["192.0.2.3:41641"])));

        var status = _a.Engine.Status().Peers;
        Assert.Equal([2L, 3L], status.Select(p => p.Id));
        Assert.Equal(("none", null, null), (status[0].Path, status[0].Endpoint, status[0].LastHandshake));
        Assert.Equal(key, status[0].NodeKey);
        Assert.Equal("192.0.2.3:41641", status[1].Endpoint);
        Assert.Equal("none", status[1].Path);
    }

    [Theory]
    [InlineData(0, true, "direct")]
    [InlineData(180, true, "direct")]
    [InlineData(181, true, "none")]
    [InlineData(0, false, "none")]
    public void The_path_is_direct_while_a_recent_handshake_and_an_endpoint_say_so(int ageSeconds, bool hasEndpoint, string path)
    {
        var now = DateTimeOffset.UnixEpoch.AddDays(20000);

        Assert.Equal(path, WireGuardEngine.PathOf(now.AddSeconds(-ageSeconds), hasEndpoint, now));
        Assert.Equal("none", WireGuardEngine.PathOf(null, hasEndpoint, now));
    }

    [Theory]
    [InlineData(1279)]
    [InlineData(1421)]
    public void An_mtu_outside_1280_to_1420_is_refused(int mtu)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WireGuardEngine(
            new EngineOptions { PrivateKey = TestMaps.NewPrivateKey(), Mtu = mtu, CreateTun = (n, m) => new InMemoryTun(n, m), CreateBind = () => _network.CreateBind(default) },
            new RecordingNetworkConfig()));
    }
}
