using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Node.Control;

namespace Trellis.Node.Tests.Control;

public sealed class ControlClientTests : IAsyncLifetime
{
    private TestControlServer _server = null!;
    private readonly List<ControlClient> _clients = [];

    public async Task InitializeAsync() => _server = await TestControlServer.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await _server.DisposeAsync();
    }

    private ControlClient Client(string hostname, string? authKey, Key? machineKey = null, Uri? server = null, Func<IReadOnlyList<string>>? endpoints = null, Key? serverKey = null, Func<int>? homeRelay = null, IReadOnlyList<Uri>? otherServers = null, Key? nodeKey = null, ResumableMap? held = null)
    {
        var client = new ControlClient(new ControlClientOptions
        {
            Server = server ?? _server.Url,
            OtherServers = otherServers ?? [],
            ServerKey = serverKey,
            MachineKey = machineKey ?? X25519.GeneratePrivateKey(),
            NodeKey = nodeKey ?? X25519.GeneratePrivateKey(),
            DiscoKey = X25519.GeneratePrivateKey(),
            Held = held,
            Hostname = hostname,
            AuthKey = authKey,
            Endpoints = endpoints ?? (() => ["198.51.100.1:41641"]),
            HomeRelay = homeRelay ?? (() => 0),
            PendingRecheckInterval = TimeSpan.FromMilliseconds(100),
            ReconnectBaseDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
            ConnectTimeout = TimeSpan.FromSeconds(60), // the first handshake of a busy test run can take longer than 5 s
        });
        _clients.Add(client);
        return client;
    }

    private async Task<ControlClient> RunningAsync(string hostname, Key? machineKey = null)
    {
        var client = Client(hostname, await _server.AuthKeyAsync(), machineKey);
        client.Start();
        await Waiting.ForStatusAsync(client, s => s.State == ControlState.Running, $"{hostname} to run");
        return client;
    }

    [Fact]
    public async Task A_node_with_an_auth_key_registers_and_receives_its_map()
    {
        var client = await RunningAsync("Laptop One");
        var map = await Waiting.ForMapAsync(client, _ => true, "the first map");
        Assert.Equal("laptop-one", map.Self.Name);
        Assert.Equal("laptop-one", client.Status.Self!.Name);
        Assert.StartsWith("100.", map.Self.Addresses[0], StringComparison.Ordinal);
        Assert.Empty(map.Peers);
        Assert.NotEmpty(map.OverlayPrefixes);
        Assert.NotEmpty(map.RelayMap.Regions);
        Assert.Equal(1, client.Status.MapStreams);

        // The server says which messages it takes, so a gateway reports its plain peers only to one that does.
        Assert.Equal(ControlProtocol.Current, client.ServerProtocol);
    }

    [Fact]
    public async Task A_replica_that_cannot_be_reached_is_passed_over_for_the_next_in_the_list()
    {
        // Port 1 on the loopback refuses at once: a replica that is down.
        var client = Client("two-replicas", await _server.AuthKeyAsync(), server: new Uri("http://127.0.0.1:1"), otherServers: [_server.Url]);
        var failed = new System.Collections.Concurrent.ConcurrentQueue<string?>();
        client.StatusChanged += s =>
        {
            if (s.State == ControlState.Reconnecting)
            {
                failed.Enqueue(s.Error);
            }
        };
        client.Start();
        await Waiting.ForStatusAsync(client, s => s.State == ControlState.Running, "the client to run on the second replica");
        Assert.Contains(failed, e => e!.Contains("127.0.0.1:1", StringComparison.Ordinal));
        Assert.Equal(2, client.ServerCount);
    }

    [Fact]
    public async Task A_node_given_one_url_moves_to_a_replica_its_map_named_after_a_jittered_wait_on_its_own_clock()
    {
        // The replica's port is taken now, so the first server's maps can name it before it runs.
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        var replica = new Uri($"http://127.0.0.1:{port}/");
        _server.Host.Service.Mesh.SetReplicaUrls([_server.Url.AbsoluteUri, replica.AbsoluteUri]);

        // An hour's backoff: only the client's own clock moving lets it dial again.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var client = new ControlClient(
            new ControlClientOptions
            {
                Server = _server.Url,
                MachineKey = X25519.GeneratePrivateKey(),
                NodeKey = X25519.GeneratePrivateKey(),
                DiscoKey = X25519.GeneratePrivateKey(),
                Hostname = "one-url",
                AuthKey = await _server.AuthKeyAsync(),
                ReconnectBaseDelay = TimeSpan.FromHours(1),
                ReconnectMaxDelay = TimeSpan.FromHours(4),
                ConnectTimeout = TimeSpan.FromSeconds(60),
            },
            clock);
        _clients.Add(client);
        client.Start();
        var first = await Waiting.ForStatusAsync(client, s => s.State == ControlState.Running, "the client to run on the one server it was given");
        Assert.Equal(_server.Url, first.Server);
        Assert.Equal([_server.Url, replica], client.Servers);

        // The server goes; a replica (its data and its key: one database, one server key) answers at the URL the map named.
        await _server.Host.DisposeAsync();
        await using var second = await TestControlServer.StartAsync(port, copyOf: _server.DataDirectory);
        var waiting = await Waiting.ForStatusAsync(client, s => s.State == ControlState.Reconnecting, "the client to notice its server went");
        Assert.Equal(1, waiting.Failures);

        var moved = await Waiting.UntilAsync(
            () =>
            {
                clock.Advance(TimeSpan.FromHours(1)); // the wait is between half and all of the hour
                return Task.FromResult(client.Status is { State: ControlState.Running, MapStreams: 2 } s ? s : null);
            },
            "the client to run on the replica");
        Assert.Equal(replica, moved.Server);
        Assert.Equal(first.Self!.Id, moved.Self!.Id);
        Assert.Equal(second.PublicKey, client.ServerKey);
    }

    [Fact]
    public async Task Without_a_key_the_node_is_pending_with_the_approval_command_and_runs_once_approved()
    {
        var client = Client("waiting-box", authKey: null);
        client.Start();
        var pending = await Waiting.ForStatusAsync(client, s => s.State == ControlState.Pending, "pending");
        Assert.Contains("trellis nodes approve", pending.ApproveHint, StringComparison.Ordinal);
        Assert.Null(client.Current);

        await _server.ApproveAsync(pending.Self!.Id);
        await Waiting.ForStatusAsync(client, s => s.State == ControlState.Running, "running after the approval");
        Assert.Equal("waiting-box", (await Waiting.ForMapAsync(client, _ => true, "the map")).Self.Name);
    }

    [Fact]
    public async Task A_bad_auth_key_is_rejected_with_the_reason_and_the_client_stops_for_good()
    {
        var client = Client("intruder", "trellis-auth-not-a-real-key");
        client.Start();
        var rejected = await Waiting.ForStatusAsync(client, s => s.IsFinal, "the refusal");
        Assert.Equal(ControlState.Rejected, rejected.State);
        Assert.Equal(ControlErrorKind.Rejected, rejected.ErrorKind);
        Assert.StartsWith("the server refused the registration: ", rejected.Error, StringComparison.Ordinal);
        Assert.True(rejected.Error!.Length > "the server refused the registration: ".Length);
        await client.Maps.Completion.WaitAsync(Waiting.Timeout);
    }

    [Fact]
    public async Task Peers_joining_changing_endpoints_and_leaving_arrive_as_new_maps()
    {
        var a = await RunningAsync("alpha");
        var b = await RunningAsync("bravo");
        var bId = b.Status.Self!.Id;
        var joined = await Waiting.ForMapAsync(a, m => m.Peers.TryGetValue(bId, out var p) && p.Online, "bravo to join alpha's map");
        Assert.Equal("bravo", joined.Peers[bId].Name);
        Assert.Equal(["198.51.100.1:41641"], joined.Peers[bId].Endpoints);

        await b.UpdateEndpointsAsync(["203.0.113.9:41641", "[2001:db8::9]:41641"], CancellationToken.None);
        var patched = await Waiting.ForMapAsync(a, m => m.Peers[bId].Endpoints.Count == 2, "bravo's new endpoints");
        Assert.Equal(["203.0.113.9:41641", "[2001:db8::9]:41641"], patched.Peers[bId].Endpoints);
        Assert.Same(joined.Self, patched.Self);

        await _server.DeleteAsync(bId);
        await Waiting.ForMapAsync(a, m => !m.Peers.ContainsKey(bId), "bravo to leave alpha's map");
        var ended = await Waiting.ForStatusAsync(b, s => s.IsFinal, "bravo's session to end");
        Assert.Equal(ControlState.Ended, ended.State);
        Assert.Contains("deleted by an admin", ended.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_nodes_home_relay_region_reaches_its_peers_and_so_does_a_move_with_endpoints_unchanged()
    {
        var home = 901;
        var a = await RunningAsync("alpha");
        var b = Client("bravo", await _server.AuthKeyAsync(), homeRelay: () => Volatile.Read(ref home));
        b.Start();
        await Waiting.ForStatusAsync(b, s => s.State == ControlState.Running, "bravo to run");
        var bId = b.Status.Self!.Id;
        await Waiting.ForMapAsync(a, m => m.Peers.TryGetValue(bId, out var p) && p.HomeRelay == 901, "bravo's home relay in alpha's map");

        Volatile.Write(ref home, 902);
        await b.RefreshEndpointsAsync(CancellationToken.None);
        var moved = await Waiting.ForMapAsync(a, m => m.Peers[bId].HomeRelay == 902, "bravo's new home relay");
        Assert.Equal(["198.51.100.1:41641"], moved.Peers[bId].Endpoints);
    }

    [Fact]
    public async Task An_endpoint_report_gathered_before_a_change_never_lands_after_the_report_gathered_after_it()
    {
        IReadOnlyList<string> current = ["198.51.100.1:41641"];
        var stallNext = 0;
        using var staleGathered = new ManualResetEventSlim();
        using var releaseStale = new ManualResetEventSlim();
        IReadOnlyList<string> Gather()
        {
            var seen = Volatile.Read(ref current);
            if (Interlocked.Exchange(ref stallNext, 0) == 1)
            {
                // A refresh thread preempted between gathering and sending, as a timer and an address-change event can be.
                staleGathered.Set();
                Assert.True(releaseStale.Wait(Waiting.Timeout), "the stale report was never released");
            }

            return seen;
        }

        var b = Client("bravo", await _server.AuthKeyAsync(), endpoints: Gather);
        b.Start();
        await Waiting.ForStatusAsync(b, s => s.State == ControlState.Running, "bravo to run");
        var bId = b.Status.Self!.Id;

        Volatile.Write(ref stallNext, 1);
        var stale = Task.Run(() => b.RefreshEndpointsAsync(CancellationToken.None));
        Assert.True(staleGathered.Wait(Waiting.Timeout), "the first refresh did not gather");
        Volatile.Write(ref current, ["203.0.113.9:41641"]);
        var fresh = Task.Run(() => b.RefreshEndpointsAsync(CancellationToken.None));

        // The fresh report must wait for the stale one; a second is ample for it to overtake if it could.
        await Task.WhenAny(fresh, Task.Delay(TimeSpan.FromSeconds(1)));
        releaseStale.Set();
        await Task.WhenAll(stale, fresh).WaitAsync(Waiting.Timeout);

        // The server handles a connection's messages in order: once it has the routes sent after both reports, it has both.
        await b.AdvertiseRoutesAsync(["10.77.0.0/24"], CancellationToken.None);
        var node = await Waiting.UntilAsync(async () => await _server.Store.GetNodeByIdAsync(bId) is { } n && n.AdvertisedRoutes.Count == 1 ? n : null, "the routes sent after the reports");
        Assert.Equal(["203.0.113.9:41641"], node.Endpoints);
    }

    [Fact]
    public async Task After_a_server_restart_the_client_resumes_its_map_with_one_delta_and_no_full_map()
    {
        var machine = X25519.GeneratePrivateKey();
        var peer = await RunningAsync("other-one", X25519.GeneratePrivateKey());
        var client = await RunningAsync("survivor", machine);
        var id = client.Status.Self!.Id;
        await Waiting.ForMapAsync(client, m => m.Peers.Count == 1, "the peer in the map");

        await _server.RestartAsync();
        var again = await Waiting.ForStatusAsync(client, s => s.State == ControlState.Running && s.MapStreams == 2, "the second map stream");
        Assert.Equal(1, again.MapResumes);
        Assert.Equal(id, again.Self!.Id);
        Assert.Null(again.Error);
        Assert.True((await _server.Store.GetNodeByIdAsync(id))!.Online);

        // The node sent what it held and the restarted server answered with deltas only; the peer is still there.
        Assert.Equal(0, _server.Host.Connections.MapSent.FullMaps);

        // Both nodes resumed; the server counts each once it has sent it, which may be after the node read it.
        await Waiting.ForStatusAsync(peer, s => s.State == ControlState.Running && s.MapStreams == 2, "the peer's second map stream");
        await Waiting.UntilAsync(() => Task.FromResult<object?>(_server.Host.Connections.MapSent.Resumes == 2 ? true : null), "both resumes counted");
        Assert.Equal(0, _server.Host.Connections.MapSent.FullMaps);
        Assert.Equal(peer.Status.Self!.Id, Assert.Single(client.Current!.Peers.Values).Id);
    }

    [Fact]
    public async Task A_client_given_the_map_of_an_earlier_run_resumes_from_it_and_sees_what_changed_meanwhile()
    {
        var (machine, nodeKey) = (X25519.GeneratePrivateKey(), X25519.GeneratePrivateKey());
        var first = Client("restarted", await _server.AuthKeyAsync(), machine, nodeKey: nodeKey);
        first.Start();
        var peer = await RunningAsync("stays");
        var held = await Waiting.ForMapAsync(first, m => m.Peers.Count == 1, "the peer in the first run's map");
        var protocol = first.ServerProtocol;
        await first.StopAsync();
        var joined = await RunningAsync("joins-meanwhile");
        var fullMaps = _server.Host.Connections.MapSent.FullMaps;

        var again = Client("restarted", authKey: null, machine, nodeKey: nodeKey, held: new ResumableMap(held, _server.PublicKey, protocol));
        again.Start();
        var running = await Waiting.ForStatusAsync(again, s => s.State == ControlState.Running, "the second run to stream");
        Assert.Equal((1, 1), (running.MapStreams, running.MapResumes));
        Assert.Equal(fullMaps, _server.Host.Connections.MapSent.FullMaps);
        Assert.Equal([peer.Status.Self!.Id, joined.Status.Self!.Id], again.Current!.Peers.Keys.Order());

        // The level comes from the cached map, so what needs it (plain-peer reports) is still sent.
        Assert.Equal(ControlProtocol.Current, again.ServerProtocol);
    }

    [Theory]
    [InlineData(false, ControlProtocol.Resume)]
    [InlineData(true, ControlProtocol.PlainPeerReports)]
    public async Task A_map_of_an_earlier_run_from_another_server_key_or_an_older_server_is_not_resumed_from(bool sameKey, int protocol)
    {
        var (machine, nodeKey) = (X25519.GeneratePrivateKey(), X25519.GeneratePrivateKey());
        var first = Client("restarted", await _server.AuthKeyAsync(), machine, nodeKey: nodeKey);
        first.Start();
        var held = await Waiting.ForMapAsync(first, _ => true, "the first run's map");
        await first.StopAsync();

        var key = sameKey ? _server.PublicKey : X25519.PublicKey(X25519.GeneratePrivateKey());
        var again = Client("restarted", authKey: null, machine, nodeKey: nodeKey, held: new ResumableMap(held, key, protocol));
        again.Start();
        var running = await Waiting.ForStatusAsync(again, s => s.State == ControlState.Running, "the second run to stream");
        Assert.Equal((1, 0), (running.MapStreams, running.MapResumes));
    }

    [Fact]
    public async Task A_down_server_is_retried_with_backoff_until_it_answers()
    {
        var port = _server.Url.Port;
        var key = await _server.AuthKeyAsync();
        await _server.Host.DisposeAsync();
        var client = Client("patient", key);
        client.Start();
        var failing = await Waiting.ForStatusAsync(client, s => s.Failures >= 2, "two failed attempts");
        Assert.Equal(ControlState.Reconnecting, failing.State);
        Assert.Equal(ControlErrorKind.Unreachable, failing.ErrorKind);
        Assert.Contains($"127.0.0.1:{port}", failing.Error, StringComparison.Ordinal);

        await _server.RestartAsync();
        await Waiting.ForStatusAsync(client, s => s.State == ControlState.Running, "running once the server is back");
    }

    [Fact]
    public async Task A_url_that_is_not_a_Trellis_server_says_so()
    {
        var client = Client("lost", await _server.AuthKeyAsync(), server: new Uri(_server.Url, "/not-here/"));
        client.Start();
        var failed = await Waiting.ForStatusAsync(client, s => s.Failures >= 1, "the failure");
        Assert.Equal(ControlErrorKind.NotTrellisServer, failed.ErrorKind);
        Assert.Contains("is not a Trellis control server", failed.Error, StringComparison.Ordinal);
        Assert.Contains("404", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_key_of_the_first_handshake_is_pinned_and_an_impostor_at_the_same_url_is_refused()
    {
        var client = await RunningAsync("pinned");
        Assert.Equal(_server.PublicKey, client.ServerKey);
        var genuine = _server.PublicKey;

        // Someone else answers at the server's address (its own data directory, so its own key).
        var port = _server.Url.Port;
        await _server.Host.DisposeAsync();
        await using var impostor = await TestControlServer.StartAsync(port);
        var refused = await Waiting.ForStatusAsync(client, s => s.ErrorKind == ControlErrorKind.ServerKeyChanged, "the impostor refused");

        Assert.Contains(impostor.PublicKey.ToBase64(), refused.Error, StringComparison.Ordinal);
        Assert.Contains(genuine.ToBase64(), refused.Error, StringComparison.Ordinal);
        Assert.Contains("--server-key", refused.Error, StringComparison.Ordinal);
        Assert.Equal(genuine, client.ServerKey);
        Assert.Empty((await impostor.Store.ListNodesAsync(null)).Value!);
    }

    [Fact]
    public async Task A_key_pinned_out_of_band_is_checked_before_the_auth_key_is_sent()
    {
        var wrong = X25519.PublicKey(X25519.GeneratePrivateKey());
        var client = Client("careful", await _server.AuthKeyAsync(), serverKey: wrong);
        client.Start();
        var refused = await Waiting.ForStatusAsync(client, s => s.Failures >= 1, "the refusal");

        Assert.Equal(ControlErrorKind.ServerKeyChanged, refused.ErrorKind);
        Assert.Contains(wrong.ToBase64(), refused.Error, StringComparison.Ordinal);
        Assert.Empty((await _server.Store.ListNodesAsync(null)).Value!);

        var right = Client("careful", await _server.AuthKeyAsync(), serverKey: _server.PublicKey);
        right.Start();
        await Waiting.ForStatusAsync(right, s => s.State == ControlState.Running, "running with the right key");
    }

    [Fact]
    public async Task Logout_takes_the_node_out_of_every_map_and_expires_it()
    {
        var machine = X25519.GeneratePrivateKey();
        var leaving = await RunningAsync("leaving", machine);
        var staying = await RunningAsync("staying");
        var id = leaving.Status.Self!.Id;
        await Waiting.ForMapAsync(staying, m => m.Peers.ContainsKey(id), "the mesh");

        await leaving.StopAsync();
        await ControlClient.LogoutAsync(_server.Url, machine, _server.PublicKey, ca: null, TimeSpan.FromSeconds(10), CancellationToken.None);
        await Waiting.ForMapAsync(staying, m => !m.Peers.ContainsKey(id), "the logout at the peer");
        Assert.True((await _server.Store.GetNodeByIdAsync(id))!.IsExpired(_server.Clock.GetUtcNow()));
    }

    [Fact]
    public async Task Advertised_routes_reach_the_server()
    {
        var client = await RunningAsync("router");
        await client.AdvertiseRoutesAsync(["192.168.50.0/24"], CancellationToken.None);
        var id = client.Status.Self!.Id;
        // The server stores it without telling the node: nothing to wait on but the store, polled until
        // a deadline only a failing test reaches (200 polls were 5 s, short of a busy machine's stall).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await _server.Store.GetNodeByIdAsync(id))!.AdvertisedRoutes.Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(25);
        }

        Assert.Equal(["192.168.50.0/24"], (await _server.Store.GetNodeByIdAsync(id))!.AdvertisedRoutes);
    }
}
