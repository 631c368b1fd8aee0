using System.Text.Json;
using Microsoft.Extensions.Logging;
using Trellis.Crypto;
using Trellis.Node.State;
using Trellis.Testing;

namespace Trellis.Node.Tests.State;

public sealed partial class StateDirectoryTests : IDisposable
{
    private const string Server = "https://trellis.example/";
    private readonly string _dir = Path.Combine(Directory.CreateTempSubdirectory("trellis-state-").FullName, "state");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_dir)!, recursive: true);

    [Fact]
    public void Keys_are_created_once_as_0600_files_in_a_0700_directory()
    {
        Trellis.Core.Keys.Key machine, node, disco;
        using (var state = StateDirectory.Open(_dir))
        {
            (machine, node, disco) = (state.MachineKey, state.NodeKey, state.DiscoKey);
            Assert.Equal(3, new[] { machine, node, disco }.Distinct().Count());
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_dir));
        foreach (var file in new[] { "machine.key", "node.key", "disco.key" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, file)));
        }

        using var again = StateDirectory.Open(_dir);
        Assert.Equal(machine, again.MachineKey);
        Assert.Equal(node, again.NodeKey);
        Assert.Equal(disco, again.DiscoKey);
    }

    [Fact]
    public void A_second_daemon_on_the_same_directory_is_refused_with_a_clear_message_until_the_first_lets_go()
    {
        var first = StateDirectory.Open(_dir);
        var refused = Assert.Throws<StateLockedException>(() => StateDirectory.Open(_dir));
        Assert.Contains("another trellis daemon", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId}", refused.Message, StringComparison.Ordinal);
        Assert.Contains(_dir, refused.Message, StringComparison.Ordinal);

        first.Dispose();
        using var second = StateDirectory.Open(_dir);
        Assert.Equal(first.MachineKey, second.MachineKey);
    }

    [Fact]
    public void The_lock_is_let_go_at_once_even_while_a_copy_of_its_descriptor_lives_on()
    {
        // A child another thread forks holds a copy of every descriptor until it execs; dup makes one here.
        var first = StateDirectory.Open(_dir);
        var lockPath = Path.Combine(_dir, StateDirectory.LockFile);
        var held = Directory.EnumerateFiles("/proc/self/fd")
            .Select(link => (Link: link, Target: new FileInfo(link).LinkTarget))
            .Single(fd => fd.Target == lockPath);
        var copy = Dup(int.Parse(Path.GetFileName(held.Link), System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(copy >= 0);
        try
        {
            first.Dispose();
            using var second = StateDirectory.Open(_dir);
            Assert.Equal(first.MachineKey, second.MachineKey);
        }
        finally
        {
            _ = Close(copy);
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "dup")]
    private static partial int Dup(int fd);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [Fact]
    public void The_map_cache_round_trips_through_an_atomic_0600_write()
    {
        var map = SampleMaps.Map(SampleMaps.Peer(1, "self"), SampleMaps.Peer(2, "laptop"), SampleMaps.Peer(3, "server", online: false));
        using var state = StateDirectory.Open(_dir);
        state.SaveMap(map, Server, DateTimeOffset.UtcNow);
        state.SaveMap(map, Server, DateTimeOffset.UtcNow); // over an existing file

        var path = Path.Combine(_dir, "netmap.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.False(File.Exists(path + ".tmp"));
        var loaded = state.LoadMap(Server);
        Assert.NotNull(loaded);
        Assert.Equal(Json(map), Json(loaded));
        Assert.False(loaded.Peers[3].Online);
    }

    [Fact]
    public void The_cached_map_keeps_the_replicas_urls_so_a_daemon_restarted_while_its_replica_is_down_can_dial_another()
    {
        var map = SampleMaps.Map(SampleMaps.Peer(1, "self")) with { Replicas = [new Uri("https://a.example.com/"), new Uri("https://b.example.com:8443/")] };
        using var state = StateDirectory.Open(_dir);
        state.SaveMap(map, Server, DateTimeOffset.UtcNow);
        Assert.Equal(map.Replicas, state.LoadMap(Server)!.Replicas);
    }

    [Fact]
    public void The_cached_map_keeps_its_packet_filter_so_a_daemon_restarted_offline_still_enforces_the_policy()
    {
        var policy = new Trellis.Core.Control.PacketFilter
        {
            Rules =
            [
                new Trellis.Core.Control.FilterRule
                {
                    Sources = ["100.64.0.2/32"],
                    Destinations = [new Trellis.Core.Control.FilterDestination { Prefix = "100.64.0.1/32", FirstPort = 22, LastPort = 22 }],
                    Protocols = [Trellis.Core.Control.IpProtocols.Tcp],
                },
            ],
        };
        using var state = StateDirectory.Open(_dir);
        state.SaveMap(SampleMaps.Map(SampleMaps.Peer(1, "self"), SampleMaps.Peer(2, "peer")) with { PacketFilter = policy }, Server, DateTimeOffset.UtcNow);

        var filter = state.LoadMap(Server)!.PacketFilter;
        Assert.False(filter.AllowsAll);
        var rule = Assert.Single(filter.Rules);
        Assert.Equal(["100.64.0.2/32"], rule.Sources);
        Assert.Equal((22, 22), (rule.Destinations[0].FirstPort, rule.Destinations[0].LastPort));
        Assert.Equal([Trellis.Core.Control.IpProtocols.Tcp], rule.Protocols);
    }

    [Fact]
    public void A_cached_map_of_another_server_or_an_old_node_key_is_not_used()
    {
        using var state = StateDirectory.Open(_dir);
        state.SaveMap(SampleMaps.Map(SampleMaps.Peer(1, "self"), SampleMaps.Peer(2, "peer")), Server, DateTimeOffset.UtcNow);
        Assert.Null(state.LoadMap("https://other.example/"));
        Assert.NotNull(state.LoadMap(Server));

        var old = state.NodeKey;
        Assert.NotEqual(old, state.RotateNodeKey());
        Assert.Null(state.LoadMap(Server));
        state.ClearMap();
        Assert.False(File.Exists(Path.Combine(_dir, "netmap.json")));
    }

    [Fact]
    public void The_cached_map_keeps_the_servers_key_and_level_so_a_restart_can_resume_and_an_older_cache_still_loads()
    {
        var map = SampleMaps.Map(SampleMaps.Peer(1, "self"), SampleMaps.Peer(2, "peer"));
        var serverKey = X25519.PublicKey(X25519.GeneratePrivateKey());
        using var state = StateDirectory.Open(_dir);
        state.SaveMap(map, Server, DateTimeOffset.UtcNow, serverKey, Trellis.Core.Control.ControlProtocol.Resume);
        var resumable = state.LoadCachedMap(Server)!.Resumable();
        Assert.NotNull(resumable);
        Assert.Equal((serverKey, Trellis.Core.Control.ControlProtocol.Resume), (resumable.ServerKey, resumable.ServerProtocol));
        Assert.Equal([2L], resumable.Map.Peers.Keys);

        // A cache written before the server's key and level were kept: applied at start, then a full map.
        var path = Path.Combine(_dir, "netmap.json");
        var older = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.True(older.Remove("serverKey") && older.Remove("serverProtocol"));
        File.WriteAllText(path, older.ToJsonString());
        var loaded = state.LoadCachedMap(Server);
        Assert.NotNull(loaded);
        Assert.Equal([2L], loaded.Map.Peers.Keys);
        Assert.Null(loaded.Resumable());
    }

    [Theory]
    [InlineData("{\"version\":1,\"serverUrl\":")]
    [InlineData("not json")]
    [InlineData("{\"version\":1,\"serverUrl\":\"https://trellis.example/\",\"nodeKey\":\"x\",\"savedAt\":\"2026-01-01T00:00:00Z\"}")]
    [InlineData("null")]
    public void A_damaged_cache_is_ignored_with_a_warning_not_a_crash(string content)
    {
        var logger = new CapturingLogger();
        using var state = StateDirectory.Open(_dir, logger);
        File.WriteAllText(Path.Combine(_dir, "netmap.json"), content);
        Assert.Null(state.LoadMap(Server));
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("netmap.json", StringComparison.Ordinal));
    }

    [Fact]
    public void Preferences_round_trip_and_damaged_ones_fall_back_to_defaults()
    {
        var logger = new CapturingLogger();
        using var state = StateDirectory.Open(_dir, logger);
        Assert.Equal(new NodePrefs().WantUp, state.LoadPrefs().WantUp);

        var prefs = new NodePrefs { ServerUrl = Server, Hostname = "box", AdvertiseRoutes = ["10.0.0.0/24"], AcceptRoutes = true, WantUp = true };
        state.SavePrefs(prefs);
        var loaded = state.LoadPrefs();
        Assert.Equal(prefs with { AdvertiseRoutes = loaded.AdvertiseRoutes }, loaded);
        Assert.Equal(prefs.AdvertiseRoutes, loaded.AdvertiseRoutes);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "prefs.json")));

        File.WriteAllText(Path.Combine(_dir, "prefs.json"), "{{{");
        Assert.False(state.LoadPrefs().WantUp);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning);
    }

    [Fact]
    public void No_private_key_appears_in_the_cache_or_the_preferences()
    {
        using var state = StateDirectory.Open(_dir);
        state.SavePrefs(new NodePrefs { ServerUrl = Server, WantUp = true });
        var self = SampleMaps.Peer(1, "self") with { NodeKey = X25519.PublicKey(state.NodeKey).ToBase64() };
        state.SaveMap(SampleMaps.Map(self), Server, DateTimeOffset.UtcNow);
        var written = File.ReadAllText(Path.Combine(_dir, "netmap.json")) + File.ReadAllText(Path.Combine(_dir, "prefs.json"));
        foreach (var key in new[] { state.MachineKey, state.NodeKey, state.DiscoKey })
        {
            Assert.DoesNotContain(key.ToBase64(), written, StringComparison.Ordinal);
        }
    }

    private static string Json(NetMap map) =>
        JsonSerializer.Serialize(map, StateJsonContext.Default.NetMap);
}
