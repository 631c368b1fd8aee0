using System.Diagnostics;
using System.Globalization;
using Trellis.Crypto;
using Trellis.Relay.Client;

namespace Trellis.RelayBench;

/// <summary>
/// One client sends, another receives, through a relay in a child process. Two senders: "paced"
/// keeps at most 32 packets in flight (a congestion-controlled flow behaves so), "unpaced" sends as
/// fast as the relay reads it, so the relay drops what the receiver cannot take. Then several pairs
/// at once, each paced, as a relay serving many nodes sees them: one pair's window waits on a
/// wake-up in each of the three processes, several pairs keep the relay busy between them.
/// Throughput is what arrives; CPU is the relay's and this process's (all clients), per gigabit delivered.
/// </summary>
internal static class ThroughputBench
{
    private const int Window = 32;

    private static readonly int[] Sizes = [1200, 65_000];

    /// <summary>Pairs sending at once in the several-pairs row (1200-byte packets, each pair paced).</summary>
    private const int Pairs = 8;

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
                await RowAsync(server, size, paced ? Window : 0, pairs: 1, seconds, runs);
            }
        }

        await RowAsync(server, Sizes[0], Window, Pairs, seconds, runs);
        return 0;
    }

    private static async Task RowAsync(ServerProcess server, int size, int window, int pairs, int seconds, int runs)
    {
        var results = await RunFlowsAsync(server, size, window, pairs, seconds, runs);
        var median = results.OrderBy(r => r.Gbps).ElementAt(results.Count / 2);
        var sender = window == 0 ? "unpaced" : pairs == 1 ? $"paced ({window} in flight)" : $"{pairs} pairs, each paced ({window} in flight)";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {size} | {sender} | {median.Gbps:F2} | {median.ServerCpu / median.Gbits:F2} | {median.ClientCpu / median.Gbits:F2} | {median.DropPercent:F1}% | {median.AllocatedPerPacket:F1} |"));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[bench] {size} B {sender}: {string.Join(", ", results.Select(r => $"{r.Gbps:F2}"))} Gbit/s"));
    }

    private static async Task<List<Result>> RunFlowsAsync(ServerProcess server, int size, int window, int pairs, int seconds, int runs)
    {
        var clients = new List<RelayClient>();
        var windows = new List<SemaphoreSlim>();
        var senders = new List<Task>();
        var receivers = new List<Task>();
        var received = new Counter[pairs];
        using var stop = new CancellationTokenSource();
        try
        {
            for (var pair = 0; pair < pairs; pair++)
            {
                var sender = new RelayClient(new RelayClientOptions { Url = server.Url, PrivateKey = X25519.GeneratePrivateKey() });
                clients.Add(sender);
                var receiver = new RelayClient(new RelayClientOptions { Url = server.Url, PrivateKey = X25519.GeneratePrivateKey() });
                clients.Add(receiver);
                await sender.ConnectAsync();
                await receiver.ConnectAsync();
                var inFlight = new SemaphoreSlim(window > 0 ? window : int.MaxValue);
                windows.Add(inFlight);
                var counter = received[pair] = new Counter();
                receivers.Add(Task.Run(() => ReceiveAsync(receiver, inFlight, window, counter)));
                senders.Add(Task.Run(() => SendAsync(sender, receiver.PublicKey, inFlight, window, size, stop.Token)));
            }

            await Task.Delay(TimeSpan.FromSeconds(1)); // warm-up
            var results = new List<Result>();
            for (var run = 0; run < runs; run++)
            {
                results.Add(await MeasureAsync(server, () => received.Sum(c => Interlocked.Read(ref c.Bytes)), TimeSpan.FromSeconds(seconds)));
            }

            return results;
        }
        finally
        {
            // Senders first (they stop at the token), then the clients, which ends the receivers' channels.
            await stop.CancelAsync();
            await Task.WhenAll(senders);
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            await Task.WhenAll(receivers);
            windows.ForEach(w => w.Dispose());
        }
    }

    private static async Task ReceiveAsync(RelayClient receiver, SemaphoreSlim inFlight, int window, Counter received)
    {
        var packets = receiver.Packets;
        while (await packets.WaitToReadAsync())
        {
            while (packets.TryRead(out var packet))
            {
                Interlocked.Add(ref received.Bytes, packet.Length);
                packet.Dispose();
                if (window > 0)
                {
                    inFlight.Release();
                }
            }
        }
    }

    private static async Task SendAsync(RelayClient sender, Core.Keys.Key destination, SemaphoreSlim inFlight, int window, int size, CancellationToken stop)
    {
        var payload = new byte[size];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (window > 0 && !await inFlight.WaitAsync(TimeSpan.FromSeconds(1), stop))
                {
                    throw new InvalidOperationException("a paced packet was lost");
                }

                await sender.SendAsync(destination, payload, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the run is over
        }
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

    private sealed class Counter
    {
        public long Bytes;
    }

    private sealed record Result(double Gbps, double Gbits, double ServerCpu, double ClientCpu, double DropPercent, double AllocatedPerPacket);
}
