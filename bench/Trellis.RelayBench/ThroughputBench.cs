using System.Diagnostics;
using System.Globalization;
using Trellis.Crypto;
using Trellis.Relay.Client;

namespace Trellis.RelayBench;

/// <summary>
/// One client sends, another receives, through a relay in a child process. Two senders: "paced"
/// keeps at most 32 packets in flight (the relay's per-client queue; a congestion-controlled flow
/// behaves so), "unpaced" sends as fast as the relay reads it, so the relay drops what the receiver
/// cannot take. Throughput is what arrives; CPU is the relay's and this process's (both clients),
/// per gigabit delivered.
/// </summary>
internal static class ThroughputBench
{
    private const int Window = 32;

    private static readonly int[] Sizes = [1200, 65_000];

    /// <param name="pinned">The relay runs on <see cref="Pinning.RelayCpu"/> alone; this process already runs on <see cref="Pinning.ClientsCpu"/>.</param>
    public static async Task<int> RunAsync(int seconds, int runs, bool pinned)
    {
        using var server = await ServerProcess.StartAsync(pinned ? Pinning.RelayCpu : null);
        var layout = pinned
            ? $"relay in its own process pinned to CPU {Pinning.RelayCpu}, both clients in another pinned to CPU {Pinning.ClientsCpu}"
            : $"{Environment.ProcessorCount} cores; relay in its own process, both clients in another";
        Console.WriteLine($"- dotnet {Environment.Version}, {layout}, over loopback (plain HTTP Upgrade); {runs} runs of {seconds} s each, medians");
        Console.WriteLine();
        Console.WriteLine("| packet (bytes) | sender | Gbit/s delivered | relay CPU s/Gbit | clients CPU s/Gbit | relay drops | relay allocated B/packet |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var size in Sizes)
        {
            foreach (var paced in new[] { true, false })
            {
                var results = await RunFlowAsync(server, size, paced ? Window : 0, seconds, runs);
                var median = results.OrderBy(r => r.Gbps).ElementAt(results.Count / 2);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {size} | {(paced ? $"paced ({Window} in flight)" : "unpaced")} | {median.Gbps:F2} | {median.ServerCpu / median.Gbits:F2} | {median.ClientCpu / median.Gbits:F2} | {median.DropPercent:F1}% | {median.AllocatedPerPacket:F1} |"));
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[bench] {size} B {(paced ? "paced" : "unpaced")}: {string.Join(", ", results.Select(r => $"{r.Gbps:F2}"))} Gbit/s"));
            }
        }

        return 0;
    }

    private static async Task<List<Result>> RunFlowAsync(ServerProcess server, int size, int window, int seconds, int runs)
    {
        await using var sender = new RelayClient(new RelayClientOptions { Url = server.Url, PrivateKey = X25519.GeneratePrivateKey() });
        await using var receiver = new RelayClient(new RelayClientOptions { Url = server.Url, PrivateKey = X25519.GeneratePrivateKey() });
        await sender.ConnectAsync();
        await receiver.ConnectAsync();
        using var inFlight = new SemaphoreSlim(window > 0 ? window : int.MaxValue);
        using var stop = new CancellationTokenSource();
        long received = 0;
        var receiving = Task.Run(async () =>
        {
            var packets = receiver.Packets;
            while (await packets.WaitToReadAsync())
            {
                while (packets.TryRead(out var packet))
                {
                    Interlocked.Add(ref received, packet.Length);
                    packet.Dispose();
                    if (window > 0)
                    {
                        inFlight.Release();
                    }
                }
            }
        });
        var sending = Task.Run(async () =>
        {
            var payload = new byte[size];
            var destination = receiver.PublicKey;
            while (!stop.IsCancellationRequested)
            {
                if (window > 0 && !await inFlight.WaitAsync(TimeSpan.FromSeconds(1)))
                {
                    throw new InvalidOperationException("a paced packet was lost");
                }

                await sender.SendAsync(destination, payload);
            }
        });

        await Task.Delay(TimeSpan.FromSeconds(1)); // warm-up
        var results = new List<Result>();
        for (var run = 0; run < runs; run++)
        {
            results.Add(await MeasureAsync(server, () => Interlocked.Read(ref received), TimeSpan.FromSeconds(seconds)));
        }

        await stop.CancelAsync();
        await sending;
        return results;
    }

    private static async Task<Result> MeasureAsync(ServerProcess server, Func<long> received, TimeSpan duration)
    {
        using var self = Process.GetCurrentProcess();
        var before = await server.StatsAsync();
        var serverCpu = server.CpuSeconds();
        self.Refresh();
        var clientCpu = self.TotalProcessorTime;
        var bytes = received();
        var watch = Stopwatch.StartNew();
        await Task.Delay(duration);
        var gbits = (received() - bytes) * 8 / 1e9;
        var elapsed = watch.Elapsed.TotalSeconds;
        self.Refresh();
        var clientCpuUsed = (self.TotalProcessorTime - clientCpu).TotalSeconds;
        var serverCpuUsed = server.CpuSeconds() - serverCpu;
        var after = await server.StatsAsync();
        var packets = after["packets"] - before["packets"];
        var drops = after["drops"] - before["drops"];
        return new Result(
            gbits / elapsed,
            gbits,
            serverCpuUsed,
            clientCpuUsed,
            packets == 0 ? 0 : 100 * drops / packets,
            packets == 0 ? 0 : (after["allocated"] - before["allocated"]) / packets);
    }

    private sealed record Result(double Gbps, double Gbits, double ServerCpu, double ClientCpu, double DropPercent, double AllocatedPerPacket);
}
