using System.Diagnostics;
using System.Globalization;
using Trellis.Footprint;
using Trellis.Lab;
using Trellis.Lab.Demo;
using Trellis.Soak;

// Usage: Trellis.Soak TRELLIS NODE|- MINUTES [GCDUMP_DIR]
// The demo's four-city mesh (NAT lab, `trellis server`, four daemons run by NODE, or by TRELLIS when
// NODE is "-"), a ring of pings through the tunnels (each device pings the next, 1000-byte payloads,
// two a second), and every minute each process's resident memory and its GC heap (a daemon's from
// its status, the JIT-run server's from dotnet-counters); at the end, what each process's resident memory
// was made of at minute 5 and at the end (JIT code, anonymous, files). With GCDUMP_DIR, each JIT-run process's
// heap is dumped (dotnet-gcdump) after minute 5 and at the end, for comparing what grew. Prints a Markdown table on stdout, progress on stderr.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: Trellis.Soak TRELLIS NODE|- MINUTES [GCDUMP_DIR]");
    return 2;
}

var trellis = new TrellisExecutable(Path.GetFullPath(args[0]), []);
var node = args[1] == "-" ? trellis : new TrellisExecutable(Path.GetFullPath(args[1]), []);
var minutes = int.Parse(args[2], CultureInfo.InvariantCulture);
var dumps = args.Length > 3 ? Directory.CreateDirectory(args[3]).FullName : null;
var tools = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools");
var counters = File.Exists(Path.Combine(tools, "dotnet-counters")) ? Path.Combine(tools, "dotnet-counters") : null;
const int BaselineMinute = 5;

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
var work = Directory.CreateTempSubdirectory("trellis-soak-").FullName;
await using var world = await DemoWorld.CreateAsync(trellis, p => Console.Error.WriteLine($"[soak] {p}"), stop.Token, node);
await world.AdminAsync(["users", "create", DemoWorld.User], stop.Token);
var authKey = (await world.AdminAsync(["authkeys", "create", "--user", DemoWorld.User, "--reusable"], stop.Token)).StandardOutput.Trim();
await world.UpAllAsync(authKey, stop.Token);

var devices = world.Devices;
var pings = devices.Select((d, i) => d.Host.Namespace.StartProcess("ping", ["-q", "-i", "0.5", "-s", "1000", devices[(i + 1) % devices.Count].OverlayIPv4!])).ToList();
var watched = new List<WatchedProcess> { new("server", world.ServerProcessId, IsJit(world.ServerProcessId), work, counters) };
watched.AddRange(devices.Select(d => new WatchedProcess(d.Name, d.Daemon.Id, IsJit(d.Daemon.Id), work, counters, ct => DaemonHeapMiBAsync(d, ct))));
Console.Error.WriteLine($"[soak] {minutes} min; watching {string.Join(", ", watched.Select(w => $"{w.Name} ({w.Pid})"))}");

var rss = watched.ToDictionary(w => w, _ => new List<double>());
var breakdowns = watched.ToDictionary(w => w, _ => new List<ResidentBreakdown>());
var heaps = watched.ToDictionary(w => w, _ => new List<double?>());
var afterFull = watched.ToDictionary(w => w, _ => new List<double?>());
var daemons = watched.Skip(1).Zip(devices).ToDictionary(p => p.First, p => p.Second);
Console.WriteLine($"| minute | {string.Join(" | ", watched.Select(w => $"{w.Name} RSS (MiB) | {w.Name} GC heap (live after the last full GC) (MiB)"))} |");
Console.WriteLine($"|---|{string.Concat(watched.Select(_ => "---|---|"))}");
var clock = Stopwatch.StartNew();
try
{
    for (var minute = 0; minute <= minutes; minute++)
    {
        var due = TimeSpan.FromMinutes(minute) - clock.Elapsed;
        if (due > TimeSpan.Zero)
        {
            await Task.Delay(due, stop.Token);
        }

        var cells = new List<string>();
        foreach (var w in watched)
        {
            var sample = MemorySample.Read(w.Pid);
            rss[w].Add(sample.RssMiB);
            breakdowns[w].Add(ResidentBreakdown.Read(w.Pid));
            cells.Add(sample.RssMiB.ToString("F1", CultureInfo.InvariantCulture));
            var heap = await w.GcHeapMiBAsync(stop.Token);
            heaps[w].Add(heap);
            var full = daemons.TryGetValue(w, out var device) ? await DaemonAfterFullMiBAsync(device, stop.Token) : null;
            afterFull[w].Add(full);
            cells.Add((heap?.ToString("F1", CultureInfo.InvariantCulture) ?? "n/a") + (full is { } f ? string.Create(CultureInfo.InvariantCulture, $" ({f:F1})") : ""));
        }

        Console.WriteLine($"| {minute} | {string.Join(" | ", cells)} |");
        if (dumps is not null && (minute == BaselineMinute || minute == minutes))
        {
            await DumpAsync(watched, dumps, minute);
        }
    }
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("[soak] interrupted");
}

if (rss.Values.First().Count > BaselineMinute + 1)
{
    Console.WriteLine();
    Console.WriteLine($"| process | RSS at minute {BaselineMinute} (MiB) | at the end (MiB) | growth after minute {BaselineMinute} | MiB per minute | GC heap at minute {BaselineMinute} / at the end (MiB) | live after the last full GC, minute {BaselineMinute} / end (MiB) |");
    Console.WriteLine("|---|---|---|---|---|---|---|");
    foreach (var (w, values) in rss)
    {
        var (from, to) = (values[BaselineMinute], values[^1]);
        var perMinute = (to - from) / (values.Count - 1 - BaselineMinute);
        var heap = heaps[w];
        var heapCell = heap[BaselineMinute] is { } h0 && heap[^1] is { } h1 ? string.Create(CultureInfo.InvariantCulture, $"{h0:F1} / {h1:F1}") : "n/a";
        var full = afterFull[w];
        var fullCell = full[BaselineMinute] is { } f0 && full[^1] is { } f1 ? string.Create(CultureInfo.InvariantCulture, $"{f0:F1} / {f1:F1}") : "n/a";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {w.Name} | {from:F1} | {to:F1} | {(to - from) / from * 100:+0.0;-0.0;0.0}% | {perMinute:+0.00;-0.00;0.00} | {heapCell} | {fullCell} |"));
    }

    // What grew: executable memory (JIT code and loader heaps) tells compiled code from objects.
    Console.WriteLine();
    Console.WriteLine($"| process | resident JIT code / anonymous / files at minute {BaselineMinute} (MiB) | at the end (MiB) |");
    Console.WriteLine("|---|---|---|");
    foreach (var (w, values) in breakdowns)
    {
        Console.WriteLine($"| {w.Name} | {values[BaselineMinute]} | {values[^1]} |");
    }
}

foreach (var ping in pings)
{
    await ping.DisposeAsync();
}

foreach (var w in watched)
{
    w.Dispose();
}

Directory.Delete(work, recursive: true);
return 0;

// The daemon's own figure (memory.gcHeapBytes in its status); null from a daemon that does not report it.
static async Task<double?> DaemonHeapMiBAsync(DemoDevice device, CancellationToken cancellationToken)
{
    using var status = await device.StatusAsync(cancellationToken);
    return status.RootElement.TryGetProperty("memory", out var memory) && memory.ValueKind == System.Text.Json.JsonValueKind.Object
        ? memory.GetProperty("gcHeapBytes").GetInt64() / 1048576.0
        : null;
}

// The live objects the daemon's latest full collection left (memory.gcLiveAfterFullBytes); null before its first or from a daemon that does not report it.
static async Task<double?> DaemonAfterFullMiBAsync(DemoDevice device, CancellationToken cancellationToken)
{
    using var status = await device.StatusAsync(cancellationToken);
    return status.RootElement.TryGetProperty("memory", out var memory) && memory.ValueKind == System.Text.Json.JsonValueKind.Object
        && memory.TryGetProperty("gcLiveAfterFullBytes", out var bytes) && bytes.GetInt64() > 0
        ? bytes.GetInt64() / 1048576.0
        : null;
}

// A JIT-run .NET process maps the runtime's shared library, or, published as a single file with the runtime
// linked into the host, the JIT's double-mapped code memory; a NativeAOT one has neither.
static bool IsJit(int pid) => File.ReadLines($"/proc/{pid}/maps")
    .Any(l => l.EndsWith("/libcoreclr.so", StringComparison.Ordinal) || l.Contains("/memfd:doublemapper", StringComparison.Ordinal));

static async Task DumpAsync(List<WatchedProcess> watched, string directory, int minute)
{
    var gcdump = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-gcdump");
    foreach (var w in watched.Where(w => IsJit(w.Pid)))
    {
        var file = Path.Combine(directory, $"{w.Name}-minute{minute}.gcdump");
        var result = await HostCommand.RunAsync(gcdump, ["collect", "-p", w.Pid.ToString(CultureInfo.InvariantCulture), "-o", file], CommandOptions.Default);
        Console.Error.WriteLine($"[soak] heap dump of {w.Name} at minute {minute}: {(result.Succeeded ? file : result.StandardError.Trim())}");
    }
}
