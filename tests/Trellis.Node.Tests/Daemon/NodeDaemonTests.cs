using System.Net;
using System.Net.Sockets;
using Trellis.Crypto;
using Trellis.Node.LocalApi;
using Trellis.Node.State;
using Trellis.Node.Tests.Control;
using Trellis.Node.Tests.State;

namespace Trellis.Node.Tests.Daemon;

public sealed class NodeDaemonTests : IAsyncLifetime
{
    private readonly DaemonHarness _harness = new();
    private TestControlServer _server = null!;

    public async Task InitializeAsync() => _server = await TestControlServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _harness.Dispose();
    }

    private string ServerUrl => _server.Url.AbsoluteUri;

    [Fact]
    public async Task The_cached_map_is_applied_at_start_before_the_server_is_reachable()
    {
        var unreachable = $"http://127.0.0.1:{UnusedPort()}/";
        var map = SampleMaps.Map(SampleMaps.Peer(1, "me"), SampleMaps.Peer(2, "laptop"), SampleMaps.Peer(3, "nas"));
        _harness.Seed(state =>
        {
            state.SavePrefs(new NodePrefs { ServerUrl = unreachable, WantUp = true, AcceptRoutes = true, Masquerade = false });
            state.SaveMap(map, unreachable, DateTimeOffset.UtcNow);
        });

        await using var daemon = await _harness.StartAsync();
        var engine = _harness.Engines.Current;
        var (applied, settings) = Assert.Single(engine.Applied);
        Assert.Equal([2L, 3L], applied.Peers.Keys.Order());
        Assert.True(settings.AcceptRoutes);
        Assert.False(settings.Masquerade);
        Assert.Equal("trellis-test", engine.Args.TunName);

        var status = daemon.Status();
        Assert.Contains(status.State, new[] { NodeStates.Starting, NodeStates.Reconnecting });
        Assert.Equal(["laptop", "nas"], status.Peers.Select(p => p.Hostname));
        Assert.False(status.Self!.Online);
    }

    [Fact]
    public async Task Up_with_port_guessing_off_reaches_the_engine_and_a_restart_keeps_it_off()
    {
        var key = await _server.AuthKeyAsync();
        await using (var daemon = await _harness.StartAsync())
        {
            await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = key, Hostname = "desk", Settings = new() { PortGuessing = false } }, CancellationToken.None);
            Assert.False(Assert.Single(_harness.Engines.Current.Applied).Settings.PortGuessing);
        }

        await using var restarted = await _harness.StartAsync();
        Assert.False(_harness.Engines.Current.Applied.First().Settings.PortGuessing);
    }

    [Fact]
    public async Task Up_with_peer_relay_offers_it_in_the_mesh_only_while_the_node_is_publicly_reachable()
    {
        var key = await _server.AuthKeyAsync();
        await using var daemon = await _harness.StartAsync();
        _harness.Engines.Current.PubliclyReachable = true;
        var up = await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = key, Hostname = "relay", Settings = new() { PeerRelay = true } }, CancellationToken.None);
        Assert.True(_harness.Engines.Current.Applied.Last().Settings.PeerRelay);
        var id = up.Status.Self!.Id;
        await WaitForAsync(() => _server.Host.Service.Mesh.Get(id)?.PeerRelay == true, "the mesh to say the node relays for peers");

        // Behind a NAT now (no public endpoint): the offer is withdrawn with the next endpoint report.
        _harness.Engines.Current.PubliclyReachable = false;
        _harness.Engines.Current.ChangePublicEndpoints("203.0.113.5:41641");
        await WaitForAsync(() => _server.Host.Service.Mesh.Get(id)?.PeerRelay == false, "the mesh to withdraw the offer");
    }

    [Fact]
    public async Task Without_peer_relay_a_publicly_reachable_node_offers_nothing()
    {
        var key = await _server.AuthKeyAsync();
        await using var daemon = await _harness.StartAsync();
        _harness.Engines.Current.PubliclyReachable = true;
        var up = await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = key, Hostname = "desk" }, CancellationToken.None);
        Assert.False(_harness.Engines.Current.Applied.Last().Settings.PeerRelay);
        _harness.Engines.Current.ChangePublicEndpoints("198.51.100.9:41641");
        var id = up.Status.Self!.Id;
        await WaitForAsync(() => _server.Host.Service.Mesh.Get(id)?.Endpoints.Contains("198.51.100.9:41641") == true, "the endpoint report");
        Assert.False(_server.Host.Service.Mesh.Get(id)!.PeerRelay);
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        // A safety net for busy shared cores, never a measurement.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Up_registers_applies_the_map_caches_it_and_a_restart_comes_back_with_it()
    {
        var key = await _server.AuthKeyAsync();
        await using (var daemon = await _harness.StartAsync())
        {
            Assert.Empty(_harness.Engines.Current.Applied);
            Assert.Equal(NodeStates.Stopped, daemon.Status().State);

            var up = await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = key, Hostname = "Desk Top", Settings = new() { AdvertiseRoutes = ["10.9.0.0/24"] } }, CancellationToken.None);
            Assert.Equal(NodeStates.Running, up.State);
            Assert.Equal("desk-top", up.Status.Self!.Hostname);
            Assert.True(up.Status.Self.Online);
            var applied = Assert.Single(_harness.Engines.Current.Applied);
            Assert.Equal("desk-top", applied.Map.Self.Name);
            Assert.Equal(["10.9.0.0/24"], applied.Settings.AdvertisedRoutes);
            Assert.True(applied.Settings.Masquerade); // the default
            Assert.True(applied.Settings.PortGuessing); // the default
        }

        // The server is down now: the restarted daemon brings the tunnels back from the cache.
        await _server.Host.DisposeAsync();
        await using var restarted = await _harness.StartAsync();
        var restored = Assert.Single(_harness.Engines.Current.Applied);
        Assert.Equal("desk-top", restored.Map.Self.Name);
        Assert.Equal(ServerUrl, restarted.Status().Server);
        await _server.RestartAsync();
        await _harness.Engines.Current.WaitForAsync(m => m.Self.Name == "desk-top" && _harness.Engines.Current.Applied.Count > 1, "the live map after reconnecting");
    }

    [Fact]
    public async Task A_restarted_daemon_resumes_its_map_session_from_the_cached_map_without_a_full_map()
    {
        await using (var daemon = await _harness.StartAsync())
        {
            await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = await _server.AuthKeyAsync(), Hostname = "desk" }, CancellationToken.None);
            var first = daemon.Status();
            Assert.Equal((1, 0), (first.FullMaps, first.MapResumes));
        }

        // A node joins while the daemon is down: the resumed session brings it.
        await using var other = await StartSpokeAsync();
        await Waiting.ForStatusAsync(other, s => s.State == Trellis.Node.Control.ControlState.Running, "the spoke to join");

        await using var restarted = await _harness.StartAsync();
        await _harness.Engines.Current.WaitForAsync(m => m.Peers.Values.Any(p => p.Name == "spoke"), "the spoke in the restarted daemon's map");
        await WaitForAsync(() => restarted.Status().State == NodeStates.Running, "the restarted daemon to run");
        var status = restarted.Status();
        Assert.Equal((0, 1), (status.FullMaps, status.MapResumes));
    }

    [Fact]
    public async Task Peers_reach_the_engine_as_they_join_and_leave()
    {
        await using var daemon = await _harness.StartAsync();
        await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = await _server.AuthKeyAsync(), Hostname = "hub" }, CancellationToken.None);

        await using var other = await StartSpokeAsync();
        var joined = await _harness.Engines.Current.WaitForAsync(m => m.Peers.Values.Any(p => p.Name == "spoke"), "the new peer");
        var id = joined.Peers.Values.Single(p => p.Name == "spoke").Id;

        _harness.Engines.Current.Paths = [new Trellis.Node.Engine.PeerStatus(id, joined.Peers[id].NodeKey, "direct", "192.0.2.7:41641", null, DateTimeOffset.UtcNow, 100, 200)];
        var peer = Assert.Single(daemon.Status().Peers);
        Assert.Equal(("spoke", "direct", "192.0.2.7:41641", 100L, 200L), (peer.Hostname, peer.Path, peer.Endpoint, peer.RxBytes, peer.TxBytes));

        await _server.DeleteAsync(id);
        await _harness.Engines.Current.WaitForAsync(m => m.Peers.Count == 0, "the peer's removal");
    }

    [Fact]
    public async Task When_the_engine_moves_home_to_another_relay_region_peers_learn_it()
    {
        await using var daemon = await _harness.StartAsync();
        await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = await _server.AuthKeyAsync(), Hostname = "hub" }, CancellationToken.None);
        var hubId = daemon.Status().Self!.Id;

        await using var other = await StartSpokeAsync();
        await Waiting.ForMapAsync(other, m => m.Peers.ContainsKey(hubId), "the hub in the spoke's map");

        _harness.Engines.Current.ChangeHomeRegion(902);
        await Waiting.ForMapAsync(other, m => m.Peers[hubId].HomeRelay == 902, "the hub's new home relay region in the spoke's map");
    }

    [Fact]
    public async Task Down_tears_the_tunnels_down_and_a_restarted_daemon_stays_down()
    {
        await using (var daemon = await _harness.StartAsync())
        {
            await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = await _server.AuthKeyAsync(), Hostname = "dn" }, CancellationToken.None);
            var status = await daemon.DownAsync(CancellationToken.None);
            Assert.Equal(NodeStates.Stopped, status.State);
            Assert.Empty(status.Peers);
            var down = _harness.Engines.Current.Last!;
            Assert.Empty(down.Peers);
            Assert.Empty(down.Self.Addresses);
            Assert.Equal("dn", down.Self.Name);
        }

        await using var restarted = await _harness.StartAsync();
        Assert.Empty(_harness.Engines.Current.Applied);
        Assert.Equal(NodeStates.Stopped, restarted.Status().State);

        // `up` without --server or a key resumes: the node is still registered.
        var up = await restarted.UpAsync(new UpRequest(), CancellationToken.None);
        Assert.Equal(NodeStates.Running, up.State);
        Assert.Equal("dn", up.Status.Self!.Hostname);
    }

    [Fact]
    public async Task Without_a_key_up_answers_pending_with_the_approval_command_and_the_node_runs_once_approved()
    {
        await using var daemon = await _harness.StartAsync();
        var up = await daemon.UpAsync(new UpRequest { Server = ServerUrl, Hostname = "asks" }, CancellationToken.None);
        Assert.Equal(NodeStates.Pending, up.State);
        Assert.Contains("trellis nodes approve", up.ApproveHint, StringComparison.Ordinal);
        Assert.Equal(NodeStates.Pending, daemon.Status().State);

        await _server.ApproveAsync(up.Status.Self!.Id);
        await _harness.Engines.Current.WaitForAsync(m => m.Self.Name == "asks", "the map after the approval");
        Assert.Equal(NodeStates.Running, daemon.Status().State);
    }

    [Fact]
    public async Task Up_fails_clearly_for_a_bad_key_an_unreachable_server_a_wrong_url_and_bad_input()
    {
        await using var daemon = await _harness.StartAsync();
        async Task<LocalApiException> Refused(UpRequest request) =>
            await Assert.ThrowsAsync<LocalApiException>(() => daemon.UpAsync(request, CancellationToken.None));

        var bad = await Refused(new UpRequest { Server = ServerUrl, AuthKey = "trellis-auth-bogus" });
        Assert.Equal(LocalApiErrors.Rejected, bad.Code);
        Assert.Contains("refused the registration", bad.Message, StringComparison.Ordinal);

        var port = UnusedPort();
        var unreachable = await Refused(new UpRequest { Server = $"http://127.0.0.1:{port}", AuthKey = "k" });
        Assert.Equal(LocalApiErrors.Unreachable, unreachable.Code);
        Assert.Contains($"127.0.0.1:{port}", unreachable.Message, StringComparison.Ordinal);

        var wrong = await Refused(new UpRequest { Server = new Uri(_server.Url, "/elsewhere/").AbsoluteUri, AuthKey = "k" });
        Assert.Equal(LocalApiErrors.NotTrellisServer, wrong.Code);

        Assert.Equal(LocalApiErrors.Invalid, (await Refused(new UpRequest { Server = "ftp://example.com" })).Code);
        Assert.Equal(LocalApiErrors.Invalid, (await Refused(new UpRequest())).Code);
        Assert.Equal(LocalApiErrors.Invalid, (await Refused(new UpRequest { Server = ServerUrl, Settings = new() { AdvertiseRoutes = ["10.0.0.1/8"] } })).Code);

        Assert.Equal(NodeStates.Stopped, daemon.Status().State);
        Assert.Empty(_harness.Engines.Current.Applied);
    }

    [Fact]
    public async Task Up_pins_the_server_key_and_a_changed_key_is_refused_until_re_pinned()
    {
        var key = await _server.AuthKeyAsync();
        var other = X25519.PublicKey(X25519.GeneratePrivateKey()).ToBase64();
        await using (var daemon = await _harness.StartAsync())
        {
            Assert.Equal(NodeStates.Running, (await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = key }, CancellationToken.None)).State);

            // An operator pins another key by hand: the daemon refuses the server that does not hold it.
            var refused = await Assert.ThrowsAsync<LocalApiException>(() => daemon.UpAsync(new UpRequest { Server = ServerUrl, ServerKey = other }, CancellationToken.None));
            Assert.Equal(LocalApiErrors.ServerKeyChanged, refused.Code);
            Assert.Contains(other, refused.Message, StringComparison.Ordinal);
            Assert.Contains(_server.PublicKey.ToBase64(), refused.Message, StringComparison.Ordinal);

            var invalid = await Assert.ThrowsAsync<LocalApiException>(() => daemon.UpAsync(new UpRequest { Server = ServerUrl, ServerKey = "not-a-key" }, CancellationToken.None));
            Assert.Equal(LocalApiErrors.Invalid, invalid.Code);
            Assert.Contains("--server-key", invalid.Message, StringComparison.Ordinal);
        }

        // What a failed `up` asked for is not kept: the key of the first handshake stays pinned.
        _harness.Seed(state => Assert.Equal(_server.PublicKey.ToBase64(), state.LoadPrefs().ServerKey));
    }

    [Fact]
    public async Task A_node_whose_key_expires_replaces_it_and_comes_back_with_its_addresses_after_re_authenticating()
    {
        await using var daemon = await _harness.StartAsync();
        var up = await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = await _server.AuthKeyAsync(), Hostname = "expiring" }, CancellationToken.None);
        var id = up.Status.Self!.Id;
        var addresses = up.Status.Self.Addresses;
        var oldKey = (await _server.Store.GetNodeByIdAsync(id))!.NodeKey;

        Assert.True((await _server.Host.Service.ExpireNodeAsync(id)).Succeeded);
        var pending = await EventuallyAsync(() => daemon.Status(), s => s.State == NodeStates.Pending, "the node to ask again with a new key");
        Assert.Contains("key expired", pending.ApproveHint, StringComparison.Ordinal);
        Assert.Contains("trellis up --authkey", pending.ApproveHint, StringComparison.Ordinal);

        var back = await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = await _server.AuthKeyAsync(), Hostname = "expiring" }, CancellationToken.None);
        Assert.Equal(NodeStates.Running, back.State);
        Assert.Equal(id, back.Status.Self!.Id);
        Assert.Equal(addresses, back.Status.Self.Addresses);
        var node = (await _server.Store.GetNodeByIdAsync(id))!;
        Assert.NotEqual(oldKey, node.NodeKey);
        Assert.False(node.IsExpired(_server.Clock.GetUtcNow()));
    }

    /// <summary>The daemon raises no event for its status; the control loop changes it on its own time.</summary>
    /// <summary>Another node, "spoke", joining the server with a control client of its own.</summary>
    private async Task<Trellis.Node.Control.ControlClient> StartSpokeAsync()
    {
        var spoke = new Trellis.Node.Control.ControlClient(new Trellis.Node.Control.ControlClientOptions
        {
            Server = _server.Url,
            MachineKey = X25519.GeneratePrivateKey(),
            NodeKey = X25519.GeneratePrivateKey(),
            DiscoKey = X25519.GeneratePrivateKey(),
            Hostname = "spoke",
            AuthKey = await _server.AuthKeyAsync(),
        });
        spoke.Start();
        return spoke;
    }

    private static async Task<T> EventuallyAsync<T>(Func<T> read, Func<T, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var value = read();
            if (done(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(25);
        }
    }

    [Fact]
    public async Task Logout_expires_the_node_on_the_server_and_forgets_the_node_key_and_the_map()
    {
        await using var daemon = await _harness.StartAsync();
        var up = await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = await _server.AuthKeyAsync(), Hostname = "bye" }, CancellationToken.None);
        var first = _harness.Engines.Current;

        var status = await daemon.LogoutAsync(CancellationToken.None);
        Assert.Equal(NodeStates.NeedsLogin, status.State);
        Assert.True((await _server.Store.GetNodeByIdAsync(up.Status.Self!.Id))!.IsExpired(_server.Clock.GetUtcNow()));
        Assert.Empty(first.Last!.Peers);
        Assert.True(first.Disposed);
        Assert.False(File.Exists(Path.Combine(_harness.StateDirectory, "netmap.json")));

        var again = await daemon.UpAsync(new UpRequest { AuthKey = await _server.AuthKeyAsync() }, CancellationToken.None);
        Assert.Equal(NodeStates.Running, again.State);
        var second = _harness.Engines.Current;
        Assert.NotSame(first, second);
        Assert.NotEqual(first.Args.NodePrivateKey, second.Args.NodePrivateKey);
        Assert.Equal(X25519.PublicKey(second.Args.NodePrivateKey).ToBase64(), again.Status.Self!.NodeKey);
    }

    [Fact]
    public async Task A_node_deleted_by_an_admin_takes_its_tunnels_down_and_needs_login()
    {
        await using var daemon = await _harness.StartAsync();
        var up = await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = await _server.AuthKeyAsync(), Hostname = "gone" }, CancellationToken.None);
        await _server.DeleteAsync(up.Status.Self!.Id);
        await _harness.Engines.Current.WaitForAsync(m => m.Self.Addresses.Count == 0, "the tunnels to go down");

        // The daemon marks the node as needing a login before it tears the tunnels down.
        var status = daemon.Status();
        Assert.Equal(NodeStates.NeedsLogin, status.State);
        Assert.Contains("deleted by an admin", status.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_daemon_on_the_same_state_directory_or_socket_is_refused()
    {
        await using var first = await _harness.StartAsync();
        var sameState = await Assert.ThrowsAsync<StateLockedException>(() => Trellis.Node.Daemon.NodeDaemon.StartAsync(
            _harness.Options(socketPath: Path.Combine(Path.GetTempPath(), $"trellis-other-{Guid.NewGuid():N}.sock"))));
        Assert.Contains("another trellis daemon", sameState.Message, StringComparison.Ordinal);

        var otherState = Path.Combine(Path.GetTempPath(), $"trellis-other-state-{Guid.NewGuid():N}");
        try
        {
            var sameSocket = await Assert.ThrowsAsync<IOException>(() => Trellis.Node.Daemon.NodeDaemon.StartAsync(_harness.Options(stateDirectory: otherState)));
            Assert.Contains("already listening", sameSocket.Message, StringComparison.Ordinal);
            Assert.Single(_harness.Engines.Engines); // refused before creating a second data plane
            Assert.Equal(NodeStates.Stopped, first.Status().State);
            using var client = new LocalApiClient(_harness.SocketPath);
            Assert.Equal(NodeStates.Stopped, (await client.StatusAsync(CancellationToken.None)).State);
        }
        finally
        {
            Directory.Delete(otherState, recursive: true);
        }
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
