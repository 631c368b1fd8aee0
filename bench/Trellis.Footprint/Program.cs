using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Trellis.Control.Store;
using Trellis.ControlScale;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Footprint;
using Trellis.Lab;

// Usage: Trellis.Footprint TRELLIS_BINARY SETTLE_SECONDS PEERS...
// One `trellis server` and, for each PEERS count in turn, that many simulated nodes on the real control
// protocol (the control-scale bench's clients); then one real daemon in a network namespace joins, once
// per runtime variant, and its memory is read from /proc after SETTLE_SECONDS with the peers in its map.
// TRELLIS_NODE_BIN (a NativeAOT `trellis-node`) adds its daemon as the last variant; FOOTPRINT_KNOBS=0
// leaves out the GC and JIT knobs (today's daemon and the NativeAOT one only); TRELLIS_NODE_ANCHOR (another
// `trellis-node`, e.g. main's, or an older `trellis`) runs just before it; FOOTPRINT_AOT_KNOBS="NAME=VALUE ..." adds the
// NativeAOT daemon once more per setting, with that DOTNET_ variable; FOOTPRINT_SMAPS=DIR keeps each
// daemon's /proc/PID/smaps and thread names there.
// Prints table rows on stdout: "D|" one daemon run, "S|" the server's memory at each peer count.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: Trellis.Footprint TRELLIS_BINARY SETTLE_SECONDS PEERS...");
    return 2;
}

var trellis = args[0];
var settle = TimeSpan.FromSeconds(int.Parse(args[1], CultureInfo.InvariantCulture));
var counts = args[2..].Select(a => int.Parse(a, CultureInfo.InvariantCulture)).Order().ToList();
var variants = RuntimeVariant.For(
    Environment.GetEnvironmentVariable("FOOTPRINT_KNOBS") != "0",
    Environment.GetEnvironmentVariable("TRELLIS_NODE_BIN") is { Length: > 0 } aot ? Path.GetFullPath(aot) : null,
    Environment.GetEnvironmentVariable("TRELLIS_NODE_ANCHOR") is { Length: > 0 } anchor ? Path.GetFullPath(anchor) : null,
    Environment.GetEnvironmentVariable("FOOTPRINT_AOT_KNOBS") is { Length: > 0 } aotKnobs ? aotKnobs.Split(' ', StringSplitOptions.RemoveEmptyEntries) : []);

// The daemon's namespace reaches the server over one veth pair and nothing else, so the simulated
// peers' endpoints are unreachable at once rather than leaking anywhere.
await using var ns = await NetNamespace.CreateAsync();
var subnet = RandomNumberGenerator.GetInt32(1, 250);
var (hostAddress, nodeAddress) = ($"10.253.{subnet}.1", $"10.253.{subnet}.2");
var (hostEnd, nodeEnd) = ($"fp{Environment.ProcessId % 100000}h", $"fp{Environment.ProcessId % 100000}n");
(await HostCommand.RunAsync("ip", "link", "add", hostEnd, "type", "veth", "peer", "name", nodeEnd, "netns", ns.Name)).EnsureSuccess();
try
{
    (await HostCommand.RunAsync("ip", "addr", "add", $"{hostAddress}/30", "dev", hostEnd)).EnsureSuccess();
    (await HostCommand.RunAsync("ip", "link", "set", hostEnd, "up")).EnsureSuccess();
    await ns.IpAsync("addr", "add", $"{nodeAddress}/30", "dev", nodeEnd);
    await ns.IpAsync("link", "set", nodeEnd, "up");
    await ns.IpAsync("link", "set", "lo", "up");

    var port = 18600 + subnet;
    var server = new Uri($"http://{hostAddress}:{port}");
    var dir = Directory.CreateTempSubdirectory("trellis-footprint-").FullName;
    // Every simulated peer connects from the one host address: lift the per-address limit.
    using var process = new ServerProcess(trellis, hostAddress, port, dir, "--max-connections-per-address", "0");
    using var http = new HttpClient();
    var serverKey = await WaitForServerAsync(http, server, process);
    var serverAtStart = process.MemoryMiB();

    var store = new ControlStore(TrellisDbContextFactory.SqliteFile(Path.Combine(dir, "trellis.db")), TimeProvider.System);
    await store.CreateUserAsync("footprint");
    var authKey = (await store.CreateAuthKeyAsync("footprint", null, reusable: true, ephemeral: false, expiresAt: null)).Value!.Plaintext;

    var peers = new List<ScaleClient>();
    var stateDirectory = Path.Combine(dir, "node");
    var socket = Path.Combine(stateDirectory, "trellis.sock");
    var registered = false;
    Console.WriteLine($"S|0|{serverAtStart:F0}|");
    foreach (var count in counts)
    {
        using (var gate = new SemaphoreSlim(32))
        {
            var joining = Enumerable.Range(peers.Count, count - peers.Count).Select(i => new ScaleClient(server, serverKey, i, ControlProtocol.Current)).ToList();
            await Task.WhenAll(joining.Select(async c =>
            {
                await gate.WaitAsync();
                try
                {
                    await c.JoinAsync(authKey, $"peer-{c.Index}", CancellationToken.None);
                    await c.FullMapArrived.Task;
                }
                finally
                {
                    gate.Release();
                }
            }));
            peers.AddRange(joining);
        }

        Console.WriteLine($"S|{count}|{process.MemoryMiB():F0}|{process.PeakMemoryMiB():F0}");
        foreach (var variant in variants)
        {
            var executable = variant.Executable ?? trellis;
            Directory.CreateDirectory(stateDirectory);
            using var probe = new LocalApiProbe(socket);
            var started = Stopwatch.StartNew();
            var daemon = ns.StartProcess(executable, ["daemon", "--state-dir", stateDirectory, "--socket", socket], variant.Environment);
            try
            {
                var listening = await probe.ListeningAsync(started, daemon, TimeSpan.FromSeconds(60));

                // Once registered, a restarted daemon reconnects by itself (wanted up): the time until
                // its status says running is its whole start, control connection and map included.
                var running = registered ? (await probe.RunningAsync(started, daemon, TimeSpan.FromSeconds(60))).ToString("F0", CultureInfo.InvariantCulture) : "registers";
                string[] up = registered
                    ? ["up", "--socket", socket]
                    : ["up", "--socket", socket, "--server", server.ToString(), "--authkey", authKey, "--hostname", "footprint", "--accept-dns=false"];
                (await ns.ExecAsync(executable, up, CommandOptions.Default)).EnsureSuccess();
                registered = true;
                await Poll.UntilAsync(async _ => await PeerCountAsync(ns, executable, socket) >= count, TimeSpan.FromSeconds(120), $"{count} peers in the daemon's map");
                await Task.Delay(settle);
                var sample = MemorySample.Read(daemon.Id);
                var heap = await probe.GcHeapMiBAsync() is { } mib ? mib.ToString("F1", CultureInfo.InvariantCulture) : "n/a";
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"D|{variant.Name}|{count}|{listening:F0}|{running}|{sample.RssMiB:F1}|{sample.AnonymousMiB:F1}|{sample.FileMiB:F1}|{heap}|{sample.Threads}"));
                if (Environment.GetEnvironmentVariable("FOOTPRINT_SMAPS") is { Length: > 0 } smapsDirectory)
                {
                    // The breakdown by mapping and the threads by name, for reading where the memory went.
                    var file = Path.Combine(smapsDirectory, $"{variant.Name.Replace(' ', '-').Replace('/', '-')}-{count}");
                    File.Copy($"/proc/{daemon.Id}/smaps", file + ".smaps", overwrite: true);
                    await File.WriteAllLinesAsync(file + ".threads", Directory.GetDirectories($"/proc/{daemon.Id}/task").Select(t => File.ReadAllText(Path.Combine(t, "comm")).Trim()).Order());
                }
            }
            finally
            {
                await daemon.DisposeAsync();
            }
        }
    }

    return 0;
}
finally
{
    await HostCommand.RunAsync("ip", "link", "del", hostEnd);
}

static async Task<Key> WaitForServerAsync(HttpClient http, Uri server, ServerProcess process)
{
    var deadline = Stopwatch.StartNew();
    while (true)
    {
        try
        {
            var doc = await http.GetFromJsonAsync<JsonElement>(new Uri(server, "/key"));
            return Key.FromBase64(doc.GetProperty("publicKey").GetString()!);
        }
        catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(180) && !process.HasExited)
        {
            await Task.Delay(100);
        }
    }
}

static async Task<int> PeerCountAsync(NetNamespace ns, string trellis, string socket)
{
    var result = await ns.ExecAsync(trellis, ["status", "--json", "--socket", socket], CommandOptions.Default);
    if (!result.Succeeded)
    {
        return 0;
    }

    using var status = JsonDocument.Parse(result.StandardOutput);
    return status.RootElement.TryGetProperty("peers", out var list) ? list.GetArrayLength() : 0;
}
