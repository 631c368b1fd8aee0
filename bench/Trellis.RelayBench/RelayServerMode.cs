using System.Diagnostics;
using System.Globalization;
using Trellis.Crypto;
using Trellis.Relay.Server;

namespace Trellis.RelayBench;

/// <summary>The relay under test, in its own process so its CPU and memory are its own. Answers "stats" and "gc" on stdin.</summary>
internal static class RelayServerMode
{
    public static async Task<int> RunAsync(int port)
    {
        var options = new RelayServerOptions
        {
            PrivateKey = X25519.GeneratePrivateKey(),
            Admission = AllowAllAdmissionForTesting.Instance,
            MaxConnections = 1_000_000,
            MaxConnectionsPerAddress = 1_000_000, // every bench client comes from 127.0.0.1
        };
        using var trace = Environment.GetEnvironmentVariable("ALLOC_TRACE") == "1" ? new AllocTrace() : null;
        await using var host = await RelayHost.StartAsync(options, $"http://127.0.0.1:{port}");
        Console.WriteLine($"ready {host.RelayUrl}");
        while (await Console.In.ReadLineAsync() is { } command)
        {
            switch (command)
            {
                case "gc":
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    GC.WaitForPendingFinalizers();
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    Console.WriteLine(Stats(host.Server));
                    break;
                case "stats":
                    Console.WriteLine(Stats(host.Server));
                    break;
                case "quit":
                    foreach (var (type, n) in AllocTrace.Types.OrderByDescending(kv => kv.Value).Take(15))
                    {
                        Console.Error.WriteLine($"[alloc] {n} {type}");
                    }

                    return 0;
            }
        }

        return 0;
    }

    private static string Stats(RelayServer server)
    {
        var s = server.Stats;
        using var self = Process.GetCurrentProcess();
        return string.Create(CultureInfo.InvariantCulture,
            $"rss={self.WorkingSet64} heap={GC.GetTotalMemory(false)} allocated={GC.GetTotalAllocatedBytes(precise: true)} gcs={GC.CollectionCount(0)} clients={s.Clients} packets={s.PacketsForwarded} bytes={s.BytesForwarded} drops={s.DropsQueueFull}");
    }
}
