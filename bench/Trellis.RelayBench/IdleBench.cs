using System.Globalization;
using Trellis.Crypto;
using Trellis.Relay.Client;

namespace Trellis.RelayBench;

/// <summary>The relay's memory per idle connection: RSS and GC heap before and after N clients connect, after full collections.</summary>
internal static class IdleBench
{
    public static async Task<int> RunAsync(int count)
    {
        using var server = await ServerProcess.StartAsync();
        var before = await server.StatsAsync(collect: true);
        var clients = new List<RelayClient>(count);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using (var gate = new SemaphoreSlim(64))
        {
            var connecting = new List<Task>();
            for (var i = 0; i < count; i++)
            {
                var client = new RelayClient(new RelayClientOptions { Url = server.Url, PrivateKey = X25519.GeneratePrivateKey(), ReceiveQueueLength = 4 });
                clients.Add(client);
                await gate.WaitAsync();
                connecting.Add(Task.Run(async () =>
                {
                    try
                    {
                        await client.ConnectAsync();
                    }
                    finally
                    {
                        gate.Release();
                    }
                }));
            }

            await Task.WhenAll(connecting);
        }

        var connectSeconds = watch.Elapsed.TotalSeconds;

        await Task.Delay(TimeSpan.FromSeconds(2)); // let the handshakes' garbage become garbage
        var after = await server.StatsAsync(collect: true);
        var cpu = server.CpuSeconds();
        await Task.Delay(TimeSpan.FromSeconds(10));
        var idleCpu = server.CpuSeconds() - cpu;

        Console.WriteLine($"- dotnet {Environment.Version}, {Environment.ProcessorCount} cores; relay in its own process (workstation GC), clients in another, over loopback");
        Console.WriteLine();
        Console.WriteLine("| idle connections | connect all (s) | relay RSS per connection (KiB) | relay GC heap per connection (KiB) | relay RSS total (MiB) | relay CPU while idle (% of a core) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {after["clients"]:F0} | {connectSeconds:F1} | {(after["rss"] - before["rss"]) / count / 1024:F1} | {(after["heap"] - before["heap"]) / count / 1024:F1} | {after["rss"] / 1048576:F0} | {idleCpu * 10:F2} |"));

        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        return after["clients"] == count ? 0 : 1;
    }
}
