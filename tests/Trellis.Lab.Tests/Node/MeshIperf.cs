using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>iperf3 over the overlay between two mesh nodes, as a user would measure it.</summary>
internal static class MeshIperf
{
    private const int Port = 5201;

    /// <summary>A TCP run of <paramref name="seconds"/> from <paramref name="a"/> to <paramref name="b"/> that must move data; the bits per second received.</summary>
    public static Task<double> RunAsync(LabNode a, LabNode b, int seconds, string how, ITestOutputHelper output) =>
        RunAsync(a.Host.Namespace, b, seconds, how, output);

    /// <summary>The same from any namespace (a plain WireGuard peer's) to a mesh node.</summary>
    public static async Task<double> RunAsync(NetNamespace a, LabNode b, int seconds, string how, ITestOutputHelper output)
    {
        var port = Port.ToString(CultureInfo.InvariantCulture);
        var server = await IperfServer.StartAsync(b.Host.Namespace, Port, once: true);
        try
        {
            var bAddress = (await b.AddressesAsync())[0];
            var client = await a.ExecAsync(
                "iperf3",
                ["-c", bAddress, "-p", port, "-t", seconds.ToString(CultureInfo.InvariantCulture), "-J"],
                new CommandOptions { Timeout = TimeSpan.FromSeconds(seconds + 30) });
            Assert.True(client.Succeeded, $"iperf3 {how} failed: {client}\nserver: {server.Output}");
            using var report = JsonDocument.Parse(client.StandardOutput);
            var received = report.RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"iperf3 TCP {how}: {received / 1e6:0.0} Mbit/s received"));
            Assert.True(received > 0, $"iperf3 {how} reported {received} bits/s received");
            return received;
        }
        finally
        {
            await server.StopAsync();
        }
    }
}
