using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Trellis.Control.Server;
using Trellis.Core.Build;
using Trellis.Core.Control;
using Trellis.Crypto;
using Trellis.Node;
using Trellis.Node.Daemon;
using Trellis.Node.Engine;
using Trellis.Node.LocalApi;
using Trellis.Node.State;

namespace Trellis.Cli.Tests;

/// <summary>`trellis daemon|up|down|logout|status` in-process, against daemons with a recording engine.</summary>
public sealed class NodeVerbTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("trellis-node-cli-").FullName;

    private string StateDirectory => Path.Combine(_root, "state");

    private string Socket => Path.Combine(_root, "trellis.sock");

    private RecordingEngine? Engine { get; set; }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();

        // Off the test's synchronization context: CommandLine.Run blocks on the async verb.
        var code = await Task.Run(() => CommandLine.Run(args, output, error));
        return (code, output.ToString(), error.ToString());
    }

    private Task<NodeDaemon> StartDaemonAsync() => NodeDaemon.StartAsync(new NodeDaemonOptions
    {
        StateDirectory = StateDirectory,
        SocketPath = Socket,
        EngineFactory = args => Engine = new RecordingEngine(),
        ConfigureControl = o => o with { ReconnectBaseDelay = TimeSpan.FromMilliseconds(50), PendingRecheckInterval = TimeSpan.FromMilliseconds(100) },
    });

    [Theory]
    [InlineData("daemon")]
    [InlineData("up")]
    [InlineData("set")]
    [InlineData("down")]
    [InlineData("logout")]
    [InlineData("status")]
    public async Task Every_node_verb_has_help_that_names_the_socket_option(string verb)
    {
        var (code, output, _) = await RunAsync(verb, "--help");
        Assert.Equal(0, code);
        Assert.Contains("--socket", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("up --server not-a-url", "--server must be an http:// or https:// URL")]
    [InlineData("up --server ftp://example.com", "--server must be an http:// or https:// URL")]
    [InlineData("daemon --tun bad/name", "bad/name")]
    [InlineData("daemon --tun this-name-is-far-too-long", "at most 15")]
    [InlineData("daemon --port 70000", "0 to 65535")]
    [InlineData("daemon --port many", "many")]
    [InlineData("status --frobnicate", "frobnicate")]
    public async Task Bad_arguments_are_usage_errors_with_a_clear_message(string args, string expected)
    {
        var (code, _, error) = await RunAsync([.. args.Split(' '), "--socket", Socket]);
        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("down")]
    [InlineData("logout")]
    [InlineData("up")]
    public async Task Without_a_daemon_each_verb_fails_saying_where_it_looked(string verb)
    {
        var (code, output, error) = await RunAsync(verb, "--socket", Socket);
        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Equal($"trellis {verb}: no trellis daemon at {Socket}: is `trellis daemon` running? (--socket or TRELLIS_SOCKET name another socket)", error.Trim());
    }

    [Fact]
    public async Task Status_json_has_self_and_every_peer_with_its_path_joined_by_id()
    {
        var (self, direct, relayed) = (Peer(1, "me"), Peer(2, "laptop"), Peer(3, "nas"));
        var unreachable = $"http://127.0.0.1:{UnusedPort()}/";
        using (var state = Trellis.Node.State.StateDirectory.Open(StateDirectory))
        {
            state.SavePrefs(new NodePrefs { ServerUrl = unreachable, WantUp = true });
            state.SaveMap(new NetMap { Self = self, Peers = new[] { direct, relayed }.ToImmutableDictionary(p => p.Id) }, unreachable, DateTimeOffset.UtcNow);
        }

        await using var daemon = await StartDaemonAsync();
        var handshake = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        Engine!.Paths = [new PeerStatus(2, direct.NodeKey, "direct", "192.0.2.2:41641", null, handshake, 1234, 5678, DroppedByPolicy: 3)];
        Engine.DroppedByPolicy = 12;
        (Engine.HomeRelay, Engine.RelayRegions) = ("fra", ["nyc"]);

        var (code, output, error) = await RunAsync("status", "--json", "--socket", Socket);
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        var me = root.GetProperty("self");
        Assert.Equal("me", me.GetProperty("hostname").GetString());
        Assert.Equal(["100.64.0.1/32", "fd7a:115c:a1e0::1/128"], me.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));
        Assert.False(me.GetProperty("online").GetBoolean());
        Assert.Equal("fra", me.GetProperty("homeRelay").GetString());
        Assert.Equal(["nyc"], me.GetProperty("relayRegions").EnumerateArray().Select(r => r.GetString()));

        var peers = root.GetProperty("peers").EnumerateArray().ToList();
        Assert.Equal(["laptop", "nas"], peers.Select(p => p.GetProperty("hostname").GetString()));
        foreach (var peer in peers)
        {
            foreach (var field in new[] { "hostname", "addresses", "online", "path", "endpoint", "relay", "lastHandshake", "rxBytes", "txBytes" })
            {
                Assert.True(peer.TryGetProperty(field, out _), $"peer JSON lacks \"{field}\": {peer}");
            }
        }

        Assert.Equal(("direct", "192.0.2.2:41641", 1234L, 5678L), (peers[0].GetProperty("path").GetString(), peers[0].GetProperty("endpoint").GetString(), peers[0].GetProperty("rxBytes").GetInt64(), peers[0].GetProperty("txBytes").GetInt64()));
        Assert.Equal(handshake, peers[0].GetProperty("lastHandshake").GetDateTimeOffset());
        Assert.Equal((12L, 3L, 0L), (root.GetProperty("droppedByPolicy").GetInt64(), peers[0].GetProperty("droppedByPolicy").GetInt64(), peers[1].GetProperty("droppedByPolicy").GetInt64()));
        Assert.Equal(("none", JsonValueKind.Null, JsonValueKind.Null), (peers[1].GetProperty("path").GetString(), peers[1].GetProperty("endpoint").ValueKind, peers[1].GetProperty("lastHandshake").ValueKind));

        (code, output, _) = await RunAsync("status", "--socket", Socket);
        Assert.Equal(0, code);
        Assert.Contains("this node: me  100.64.0.1, fd7a:115c:a1e0::1  not connected", output, StringComparison.Ordinal);
        Assert.Contains("HOSTNAME", output, StringComparison.Ordinal);
        Assert.Contains("dropped by policy: 12", output, StringComparison.Ordinal);
        Assert.Contains("home relay: fra (also connected: nyc)", output, StringComparison.Ordinal);
        Assert.Matches(@"laptop\s+100\.64\.0\.2,fd7a:115c:a1e0::2\s+yes\s+direct\s+192\.0\.2\.2:41641\s+2026-01-02 03:04Z\s+1\.2 KiB\s+5\.5 KiB\s+3", output);
        Assert.Matches(@"nas\s+.*\s+none\s+-\s+-\s+0 B\s+0 B", output);
    }

    [Theory]
    [InlineData(3, true)]
    [InlineData(90, false)]
    public async Task Status_says_when_the_node_key_expires_and_warns_once_it_is_near(int days, bool warns)
    {
        var expiry = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(days).AddHours(12);
        var self = Peer(1, "me") with { KeyExpiry = expiry };
        var unreachable = $"http://127.0.0.1:{UnusedPort()}/";
        using (var state = Trellis.Node.State.StateDirectory.Open(StateDirectory))
        {
            state.SavePrefs(new NodePrefs { ServerUrl = unreachable, WantUp = true });
            state.SaveMap(new NetMap { Self = self, Peers = ImmutableDictionary<long, PeerInfo>.Empty }, unreachable, DateTimeOffset.UtcNow);
        }

        await using var daemon = await StartDaemonAsync();
        var (code, output, error) = await RunAsync("status", "--socket", Socket);
        Assert.True(code == 0, error);
        var date = System.Text.RegularExpressions.Regex.Escape(expiry.UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Matches(
            warns
                ? $@"\nwarning: this node's key expires {date} \(in [0-9.]+ d\); renew it before then with: trellis up --force-reauth\n"
                : $@"\nnode key expires {date} \(in [0-9.]+ d\)\n",
            output);

        (code, output, _) = await RunAsync("status", "--json", "--socket", Socket);
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(expiry, json.RootElement.GetProperty("self").GetProperty("keyExpiry").GetDateTimeOffset());
    }

    [Fact]
    public Task Up_force_reauth_without_a_key_on_a_server_without_sign_in_says_how_to_renew_and_stays_connected() =>
        WithNodeUpAsync(new ServerOptions { NodeKeyExpiry = TimeSpan.FromDays(7) }, async _ =>
        {
            var (code, output, _) = await RunAsync("status", "--socket", Socket);
            Assert.Equal(0, code);
            Assert.Matches(@"warning: this node's key expires \S+ \S+Z \(in 7 d\); renew it before then with: trellis up --force-reauth", output);

            var renew = await RunAsync("up", "--force-reauth", "--socket", Socket);
            Assert.Equal(1, renew.Code);
            Assert.Contains("this server has no single sign-on; to renew this node's key, register it again with an auth key: trellis up --force-reauth --authkey KEY", renew.Error, StringComparison.Ordinal);
            using var json = JsonDocument.Parse((await RunAsync("status", "--json", "--socket", Socket)).Output);
            Assert.Equal("running", json.RootElement.GetProperty("state").GetString());
            Assert.StartsWith("this server has no single sign-on", json.RootElement.GetProperty("renewHint").GetString(), StringComparison.Ordinal);
        });

    /// <summary>
    /// A real server (<paramref name="options"/> with a listener, a data directory and no STUN added), a
    /// daemon brought `up` on it as "box" with an auth key of alice's, then <paramref name="body"/>.
    /// </summary>
    private async Task WithNodeUpAsync(ServerOptions options, Func<ControlServerHost, Task> body)
    {
        var dir = Directory.CreateTempSubdirectory("trellis-node-cli-server-").FullName;
        var server = await ControlServerHost.StartAsync(
            options with { Listen = "http://127.0.0.1:0", DataDirectory = dir, StunPort = 0 }, logging: l => l.SetMinimumLevel(LogLevel.Warning));
        try
        {
            await using var daemon = await StartDaemonAsync();
            await server.Service.Store.CreateUserAsync("alice");
            var key = (await server.Service.Store.CreateAuthKeyAsync("alice", null, reusable: false, ephemeral: false, expiresAt: null)).Value!.Plaintext;
            var up = await RunAsync("up", "--server", server.Url.AbsoluteUri, "--authkey", key, "--hostname", "box", "--socket", Socket);
            Assert.True(up.Code == 0, up.Error);
            await body(server);
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Status_shows_the_servers_release_the_daemons_and_each_peers()
    {
        await WithNodeUpAsync(new ServerOptions(), async server =>
        {
            var (code, output, _) = await RunAsync("status", "--socket", Socket);
            Assert.Equal(0, code);
            Assert.StartsWith($"running ({server.Url.AbsoluteUri}, server {BuildInfo.Short})", output, StringComparison.Ordinal);
            Assert.Matches($@"this node: box  \S+, \S+  connected  daemon {System.Text.RegularExpressions.Regex.Escape(BuildInfo.Short)}\n", output.ReplaceLineEndings("\n"));

            using var json = JsonDocument.Parse((await RunAsync("status", "--json", "--socket", Socket)).Output);
            Assert.Equal((BuildInfo.Short, BuildInfo.Short), (json.RootElement.GetProperty("serverVersion").GetString(), json.RootElement.GetProperty("version").GetString()));
        });

        // Each peer's release as its daemon reported it, and "unknown" for one older than version reporting.
        var (self, laptop, nas) = (Peer(1, "me"), Peer(2, "laptop") with { Version = "0.9.0+abcdef123456" }, Peer(3, "nas"));
        var unreachable = $"http://127.0.0.1:{UnusedPort()}/";
        using (var state = Trellis.Node.State.StateDirectory.Open(StateDirectory))
        {
            state.SavePrefs(new NodePrefs { ServerUrl = unreachable, WantUp = true });
            state.SaveMap(new NetMap { Self = self, Peers = new[] { laptop, nas }.ToImmutableDictionary(p => p.Id) }, unreachable, DateTimeOffset.UtcNow);
        }

        await using var offline = await StartDaemonAsync();
        var table = (await RunAsync("status", "--socket", Socket)).Output;
        Assert.Matches(@"\sVERSION\s*\n", table.ReplaceLineEndings("\n"));
        Assert.Matches(@"laptop\s.*\s0\.9\.0\+abcdef123456\s*\n", table.ReplaceLineEndings("\n"));
        Assert.Matches(@"nas\s.*\sunknown\s*\n", table.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Status_names_the_peer_relay_a_peer_is_reached_through()
    {
        var (self, far, relay) = (Peer(1, "me"), Peer(2, "laptop"), Peer(3, "vps"));
        var unreachable = $"http://127.0.0.1:{UnusedPort()}/";
        using (var state = Trellis.Node.State.StateDirectory.Open(StateDirectory))
        {
            state.SavePrefs(new NodePrefs { ServerUrl = unreachable, WantUp = true });
            state.SaveMap(new NetMap { Self = self, Peers = new[] { far, relay }.ToImmutableDictionary(p => p.Id) }, unreachable, DateTimeOffset.UtcNow);
        }

        await using var daemon = await StartDaemonAsync();
        Engine!.Paths = [new PeerStatus(2, far.NodeKey, "peer-relay", "198.51.100.3:41641", null, null, 0, 0, PeerRelayKey: relay.NodeKey)];

        var (code, output, error) = await RunAsync("status", "--socket", Socket);
        Assert.True(code == 0, error);
        Assert.Matches(@"laptop\s+\S+\s+yes\s+peer-relay via vps\s+198\.51\.100\.3:41641", output);

        (code, output, _) = await RunAsync("status", "--json", "--socket", Socket);
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        var laptop = json.RootElement.GetProperty("peers").EnumerateArray().First(p => p.GetProperty("hostname").GetString() == "laptop");
        Assert.Equal(("peer-relay", "vps"), (laptop.GetProperty("path").GetString(), laptop.GetProperty("peerRelay").GetString()));
    }

    [Fact]
    public async Task Ping_names_the_path_that_answered_and_an_unknown_peer_is_a_usage_error()
    {
        var (self, peer) = (Peer(1, "me"), Peer(2, "laptop"));
        var unreachable = $"http://127.0.0.1:{UnusedPort()}/";
        using (var state = Trellis.Node.State.StateDirectory.Open(StateDirectory))
        {
            state.SavePrefs(new NodePrefs { ServerUrl = unreachable, WantUp = true });
            state.SaveMap(new NetMap { Self = self, Peers = new[] { peer }.ToImmutableDictionary(p => p.Id) }, unreachable, DateTimeOffset.UtcNow);
        }

        await using var daemon = await StartDaemonAsync();
        var (code, output, error) = await RunAsync("ping", "laptop", "-c", "1", "--socket", Socket);
        Assert.True(code == 0, error);
        Assert.Contains("pong from laptop", output, StringComparison.Ordinal);
        Assert.Contains("via relay default in 3.0 ms", output, StringComparison.Ordinal);

        (code, output, error) = await RunAsync("ping", "laptop", "-c", "2", "--json", "--socket", Socket);
        Assert.True(code == 0, error);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        using (var pong = JsonDocument.Parse(lines[0]))
        {
            Assert.Equal(("laptop", "relay", "default"), (pong.RootElement.GetProperty("hostname").GetString(), pong.RootElement.GetProperty("path").GetString(), pong.RootElement.GetProperty("relay").GetString()));
        }

        (code, _, error) = await RunAsync("ping", "nobody", "-c", "1", "--socket", Socket);
        Assert.Equal(2, code);
        Assert.Contains("no peer is called or has the address 'nobody'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_down_and_logout_against_a_real_server()
    {
        var dir = Directory.CreateTempSubdirectory("trellis-node-cli-server-").FullName;
        var server = await ControlServerHost.StartAsync(
            new ServerOptions { Listen = "http://127.0.0.1:0", DataDirectory = dir, StunPort = 0 }, logging: l => l.SetMinimumLevel(LogLevel.Warning));
        try
        {
            await using var daemon = await StartDaemonAsync();
            var url = server.Url.AbsoluteUri;

            var rejected = await RunAsync("up", "--server", url, "--authkey", "trellis-auth-nope", "--socket", Socket);
            Assert.Equal(1, rejected.Code);
            Assert.StartsWith("trellis up: the server refused the registration: ", rejected.Error, StringComparison.Ordinal);

            var port = UnusedPort();
            var unreachable = await RunAsync("up", "--server", $"http://127.0.0.1:{port}", "--socket", Socket);
            Assert.Equal(1, unreachable.Code);
            Assert.Contains($"cannot reach http://127.0.0.1:{port}", unreachable.Error, StringComparison.Ordinal);

            var hostBits = await RunAsync("up", "--server", url, "--advertise-routes", "10.1.0.0/24,10.2.0.1/16", "--socket", Socket);
            Assert.Equal(2, hostBits.Code);
            Assert.Contains("did you mean 10.2.0.0/16?", hostBits.Error, StringComparison.Ordinal);

            // A key given out of band that the server cannot prove: refused before anything is sent.
            var pinned = Trellis.Crypto.X25519.PublicKey(Trellis.Crypto.X25519.GeneratePrivateKey()).ToBase64();
            var impostor = await RunAsync("up", "--server", url, "--server-key", pinned, "--socket", Socket);
            Assert.Equal(1, impostor.Code);
            Assert.Contains($"but this node trusts {pinned}", impostor.Error, StringComparison.Ordinal);

            // Without a key: pending, the approval command, and the verb waits until an admin approves.
            var up = RunAsync("up", "--server", url, "--hostname", "cli-box", "--socket", Socket);
            var node = await WaitForPendingNodeAsync(server);
            var approved = await server.Service.Store.ApproveNodeAsync(node, "alice");
            Assert.True(approved.Succeeded, approved.Message);
            server.Service.Refresh(approved.Value!);
            var (code, output, error) = await up;
            Assert.True(code == 0, error);
            Assert.Contains("trellis up: this node waits for an admin's approval\n", output, StringComparison.Ordinal);
            Assert.Contains($"trellis nodes approve {node}", output, StringComparison.Ordinal);
            Assert.Contains($"trellis up: approved; connected to {url} as cli-box (100.64.", output, StringComparison.Ordinal);

            using (var json = JsonDocument.Parse((await RunAsync("status", "--json", "--socket", Socket)).Output))
            {
                Assert.Equal("running", json.RootElement.GetProperty("state").GetString());
                Assert.True(json.RootElement.GetProperty("self").GetProperty("online").GetBoolean());
            }

            Assert.Equal((0, "trellis down: disconnected; tunnels are down\n"), Pick(await RunAsync("down", "--socket", Socket)));
            Assert.Empty(Engine!.Last!.Peers);
            Assert.Empty(Engine.Last.Self.Addresses);

            var again = await RunAsync("up", "--socket", Socket);
            Assert.Equal(0, again.Code);
            Assert.StartsWith($"trellis up: connected to {url} as cli-box", again.Output, StringComparison.Ordinal);

            Assert.Equal((0, "trellis logout: logged out; the node key was replaced\n"), Pick(await RunAsync("logout", "--socket", Socket)));
            Assert.True((await server.Service.Store.GetNodeByIdAsync(node))!.IsExpired(DateTimeOffset.UtcNow));
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Up_refuses_to_drop_a_setting_it_does_not_mention_and_set_changes_one_setting()
    {
        var dir = Directory.CreateTempSubdirectory("trellis-node-cli-settings-").FullName;
        var server = await ControlServerHost.StartAsync(
            new ServerOptions { Listen = "http://127.0.0.1:0", DataDirectory = dir, StunPort = 0 }, logging: l => l.SetMinimumLevel(LogLevel.Warning));
        try
        {
            await using var daemon = await StartDaemonAsync();
            var url = server.Url.AbsoluteUri;
            await server.Service.Store.CreateUserAsync("alice");
            var key = (await server.Service.Store.CreateAuthKeyAsync("alice", null, false, false, null)).Value!.Plaintext;
            string[] provision = ["up", "--server", url, "--authkey", key, "--hostname", "office", "--advertise-routes", "10.99.0.0/24", "--socket", Socket];
            var (code, _, error) = await RunAsync(provision);
            Assert.True(code == 0, error);

            // The provisioning command again: the single-use key is not needed, and nothing fails.
            (code, var output, error) = await RunAsync(provision);
            Assert.True(code == 0, error);
            Assert.Contains("the auth key was not needed", output, StringComparison.Ordinal);
            Assert.DoesNotContain(key, output + error, StringComparison.Ordinal);
            (code, output, error) = await RunAsync([.. provision, "--json"]);
            Assert.True(code == 0, error);
            using (var json = JsonDocument.Parse(output))
            {
                Assert.Equal(("running", true), (json.RootElement.GetProperty("state").GetString(), json.RootElement.GetProperty("authKeyIgnored").GetBoolean()));
                Assert.Equal("office", json.RootElement.GetProperty("status").GetProperty("self").GetProperty("hostname").GetString());
            }

            // On a router, `up --accept-routes` alone would drop its advertised route: refused, with the command that keeps it.
            (code, output, error) = await RunAsync("up", "--accept-routes", "--socket", Socket);
            Assert.Equal(2, code);
            Assert.Contains("--hostname=office --advertise-routes=10.99.0.0/24", error, StringComparison.Ordinal);
            Assert.Contains("to keep them:  trellis up --accept-routes --hostname=office --advertise-routes=10.99.0.0/24", error, StringComparison.Ordinal);
            Assert.Contains("--reset", error, StringComparison.Ordinal);
            Assert.False(daemon.Prefs().AcceptRoutes);

            (code, _, error) = await RunAsync("up", "--accept-routes", "--hostname=office", "--advertise-routes=10.99.0.0/24", "--socket", Socket);
            Assert.True(code == 0, error);
            Assert.True(daemon.Prefs().AcceptRoutes);

            // down, then up: every setting stays.
            Assert.Equal(0, (await RunAsync("down", "--socket", Socket)).Code);
            (code, _, error) = await RunAsync("up", "--socket", Socket);
            Assert.True(code == 0, error);
            Assert.Equal(["10.99.0.0/24"], daemon.Prefs().AdvertiseRoutes);
            Assert.True(daemon.Prefs().AcceptRoutes);

            // set: one setting, the rest kept; without flags it prints them.
            (code, output, error) = await RunAsync("set", "--accept-routes=false", "--peer-relay", "--socket", Socket);
            Assert.True(code == 0, error);
            Assert.Equal("trellis set: settings: --hostname=office --advertise-routes=10.99.0.0/24 --peer-relay\n", output);
            Assert.Equal(["10.99.0.0/24"], daemon.Prefs().AdvertiseRoutes);
            Assert.Equal((false, true), (daemon.Prefs().AcceptRoutes, daemon.Prefs().PeerRelay));
            Assert.Equal(NodeStates.Running, daemon.Status().State);
            Assert.False(Engine!.LastSettings!.AcceptRoutes);

            (code, _, error) = await RunAsync("set", "--advertise-routes", "10.0.0.1/8", "--socket", Socket);
            Assert.Equal(2, code);
            Assert.Contains("did you mean 10.0.0.0/8?", error, StringComparison.Ordinal);
            Assert.Equal(["10.99.0.0/24"], daemon.Prefs().AdvertiseRoutes);

            // --reset: what is not mentioned goes back to its default.
            (code, _, error) = await RunAsync("up", "--reset", "--no-port-guessing", "--socket", Socket);
            Assert.True(code == 0, error);
            var prefs = daemon.Prefs();
            Assert.Equal((0, false, false, null), (prefs.AdvertiseRoutes.Count, prefs.PeerRelay, prefs.PortGuessing, prefs.Hostname));
            Assert.Equal("trellis set: settings: --no-port-guessing\n", (await RunAsync("set", "--socket", Socket)).Output);
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (int, string) Pick((int Code, string Output, string Error) result) => (result.Code, result.Output);

    private static async Task<long> WaitForPendingNodeAsync(ControlServerHost server)
    {
        if (await server.Service.Store.GetUserAsync("alice") is null)
        {
            await server.Service.Store.CreateUserAsync("alice");
        }

        for (var i = 0; i < 1000; i++)
        {
            // The daemon writes nothing the test could await; the store is where the pending node shows up.
            if ((await server.Service.Store.ListNodesAsync()).Value!.FirstOrDefault() is { } node)
            {
                return node.Id;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("no pending node appeared");
    }

    private static PeerInfo Peer(long id, string name) => new()
    {
        Id = id,
        Name = name,
        NodeKey = X25519.PublicKey(X25519.GeneratePrivateKey()).ToBase64(),
        DiscoKey = X25519.PublicKey(X25519.GeneratePrivateKey()).ToBase64(),
        Addresses = [$"100.64.0.{id}/32", $"fd7a:115c:a1e0::{id}/128"],
        AllowedIps = [$"100.64.0.{id}/32", $"fd7a:115c:a1e0::{id}/128"],
        Online = true,
    };

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>An engine that keeps the maps it is given and reports the paths a test sets.</summary>
    internal sealed class RecordingEngine : IEngine
    {
        private volatile NetMap? _last;

        public ushort ListenPort => 41641;

        public IReadOnlyList<string> PublicEndpoints => [];

        public Task<EnginePing?> PingAsync(string nodeKey, CancellationToken cancellationToken) =>
            Task.FromResult<EnginePing?>(new EnginePing("relay", null, "default", TimeSpan.FromMilliseconds(3)));

        public NetMap? Last => _last;

        public IReadOnlyList<PeerStatus> Paths { get; set; } = [];

        public EngineSettings? LastSettings { get; private set; }

        public Task ApplyAsync(NetMap map, EngineSettings settings, CancellationToken cancellationToken)
        {
            LastSettings = settings;
            _last = map;
            return Task.CompletedTask;
        }

        public long DroppedByPolicy { get; set; }

        public string? HomeRelay { get; set; }

        public IReadOnlyList<string> RelayRegions { get; set; } = [];

        public EngineStatus Status() => new(Paths, DroppedByPolicy, HomeRelay, RelayRegions);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        public int HomeRegion => 0;

#pragma warning disable CS0067 // never raised: this engine has no public endpoints or relays to find
        public event Action? PublicEndpointsChanged;

        public event Action? HomeRegionChanged;
#pragma warning restore CS0067
    }
}
