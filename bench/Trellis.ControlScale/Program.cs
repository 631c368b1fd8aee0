using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Trellis.Control.Store;
using Trellis.ControlScale;
using Trellis.Core.Control;
using Trellis.Core.Keys;

// Usage: Trellis.ControlScale TRELLIS_BINARY NODES [PORT]
// Starts `trellis server`, joins NODES simulated nodes over the real protocol, then measures how long
// one change takes to reach every node: an endpoint change, and a node joining.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Trellis.ControlScale TRELLIS_BINARY NODES [PORT]");
    return 2;
}

var trellis = args[0];
var count = int.Parse(args[1], CultureInfo.InvariantCulture);
var port = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 18443;
var dir = Directory.CreateTempSubdirectory("trellis-scale-").FullName;
var server = new Uri($"http://127.0.0.1:{port}");
using var process = new ServerProcess(trellis, port, dir);
using var http = new HttpClient();
Key serverKey = default;
for (var i = 0; ; i++)
{
    try
    {
        var doc = await http.GetFromJsonAsync<JsonElement>(new Uri(server, "/key"));
        serverKey = Key.FromBase64(doc.GetProperty("publicKey").GetString()!);
        break;
    }
    catch (HttpRequestException) when (i < 100)
    {
        await Task.Delay(100);
    }
}

// The auth key goes straight into the server's SQLite database (the admin API is another issue's bench).
var store = new ControlStore(TrellisDbContextFactory.SqliteFile(Path.Combine(dir, "trellis.db")), TimeProvider.System);
await store.CreateUserAsync("bench");
var authKey = (await store.CreateAuthKeyAsync("bench", null, reusable: true, ephemeral: false, expiresAt: null)).Value!.Plaintext;

var clients = Enumerable.Range(0, count).Select(i => new ScaleClient(server, serverKey, i)).ToList();
var joinWatch = Stopwatch.StartNew();
var cpuBeforeJoin = process.CpuSeconds();
using (var gate = new SemaphoreSlim(32))
{
    await Task.WhenAll(clients.Select(async c =>
    {
        await gate.WaitAsync();
        try
        {
            await c.JoinAsync(authKey, $"bench-{c.Index}", CancellationToken.None);
            await c.FullMapArrived.Task;
        }
        finally
        {
            gate.Release();
        }
    }));
}

var joinSeconds = joinWatch.Elapsed.TotalSeconds;
var joinCpu = process.CpuSeconds() - cpuBeforeJoin;
Console.Error.WriteLine($"[bench] {count} nodes joined in {joinSeconds:F1} s; last full map {clients[^1].FullMapBytes / 1024} KiB");
await Task.Delay(2000); // let join deltas drain

async Task<(double P50, double P99, double Max, double Cpu, int Missing)> MeasureAsync(string marker, Func<Task> change)
{
    foreach (var c in clients)
    {
        c.MarkerSeenAt = 0;
    }

    ScaleClient.SetMarker(marker);
    var cpu = process.CpuSeconds();
    var t0 = Stopwatch.GetTimestamp();
    await change();
    var deadline = Stopwatch.StartNew();
    var watchers = clients.Where(c => c.Index != 0).ToList();
    while (watchers.Any(c => c.MarkerSeenAt == 0) && deadline.Elapsed < TimeSpan.FromSeconds(60))
    {
        await Task.Delay(20);
    }

    var cpuUsed = process.CpuSeconds() - cpu;
    var latencies = watchers.Where(c => c.MarkerSeenAt != 0).Select(c => Stopwatch.GetElapsedTime(t0, c.MarkerSeenAt).TotalMilliseconds).Order().ToList();
    double At(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
    return (At(0.5), At(0.99), latencies.Count == 0 ? double.NaN : latencies[^1], cpuUsed, watchers.Count - latencies.Count);
}

var endpointMarker = $"203.0.113.77:{Random.Shared.Next(1024, 65535)}";
var endpoint = await MeasureAsync(endpointMarker, () => clients[0].SendAsync(new EndpointUpdate { Endpoints = [endpointMarker] }, CancellationToken.None));
await Task.Delay(1000);
var joinerName = $"joiner-{Random.Shared.Next(100000, 999999)}";
var joiner = new ScaleClient(server, serverKey, count);
var join = await MeasureAsync(joinerName, () => joiner.JoinAsync(authKey, joinerName, CancellationToken.None));

var peak = process.PeakMemoryMiB();
Console.WriteLine($"| {count} | {joinSeconds:F1} | {joinCpu:F1} | {endpoint.P50:F0} / {endpoint.P99:F0} / {endpoint.Max:F0} | {endpoint.Cpu:F2} | {join.P50:F0} / {join.P99:F0} / {join.Max:F0} | {join.Cpu:F2} | {peak:F0} | {endpoint.Missing + join.Missing} |");
Directory.Delete(dir, recursive: true);
return endpoint.Missing + join.Missing == 0 ? 0 : 1;
