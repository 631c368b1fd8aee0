using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>netns.sh's iperf3 check: a short TCP run through the tunnel completes and moves data.</summary>
public sealed class ThroughputTests(ITestOutputHelper output)
{
    private const int Port = 5201;
    private const int Seconds = 3;

    [Theory]
    [MemberData(nameof(Pairs.All), MemberType = typeof(Pairs))]
    public async Task Iperf3_tcp_runs_through_the_tunnel(Implementation a, Implementation b)
    {
        await using var lab = await TunnelLab.StartAsync(a, b, output);
        await lab.EstablishAsync(lab.A);

        var portText = Port.ToString(CultureInfo.InvariantCulture);
        var server = lab.B.Namespace.StartProcess("iperf3", ["-s", "-1", "-p", portText]);
        await Poll.UntilAsync(
            async ct =>
            {
                Assert.False(server.HasExited, $"iperf3 server exited: {server.Output}");
                var listening = await lab.B.Namespace.ExecAsync("ss", ["-Hltn", "sport", "=", $":{portText}"], CommandOptions.Default, ct);
                return listening.Succeeded && listening.StandardOutput.Trim().Length > 0;
            },
            TimeSpan.FromSeconds(10),
            "the iperf3 server to listen");

        var client = await lab.A.Namespace.ExecAsync(
            "iperf3",
            ["-c", lab.B.InnerIPv4.Address.ToString(), "-p", portText, "-t", Seconds.ToString(CultureInfo.InvariantCulture), "-J"],
            new CommandOptions { Timeout = TimeSpan.FromSeconds(Seconds + 30) });
        Assert.True(client.Succeeded, $"iperf3 client failed: {client}\nserver: {server.Output}");

        using var report = JsonDocument.Parse(client.StandardOutput);
        var end = report.RootElement.GetProperty("end");
        var received = end.GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
        var sent = end.GetProperty("sum_sent").GetProperty("bits_per_second").GetDouble();
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"iperf3 TCP {a} -> {b}, {Seconds} s: {received / 1e9:0.000} Gbit/s received ({sent / 1e9:0.000} Gbit/s sent)"));
        Assert.True(received > 0, $"iperf3 reported {received} bits/s received");
    }
}
