using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>
/// netns.sh's iperf3 check, with the TUN offloads on and off: short TCP runs over inner IPv4 and IPv6
/// and a UDP run complete through the tunnel and move data, in one lab per pair.
/// </summary>
public sealed class ThroughputTests(ITestOutputHelper output)
{
    private const int Port = 5201;
    private const int Seconds = 2;

    /// <summary>Every pair with offloads on (the default), and each pair with a Trellis side with them off.</summary>
    public static TheoryData<Implementation, Implementation, bool> PairsByOffload
    {
        get
        {
            var data = new TheoryData<Implementation, Implementation, bool>();
            foreach (var row in Pairs.All)
            {
                data.Add((Implementation)row[0], (Implementation)row[1], true);
            }

            foreach (var row in Pairs.WithTrellis)
            {
                data.Add((Implementation)row[0], (Implementation)row[1], false);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(PairsByOffload))]
    public async Task Iperf3_tcp_and_udp_run_through_the_tunnel(Implementation a, Implementation b, bool offload)
    {
        await using var lab = await TunnelLab.StartAsync(a, b, output, offload: offload);
        await lab.EstablishAsync(lab.A);
        await lab.EstablishAsync(lab.A, ipv6: true);
        foreach (var end in (TunnelEnd[])[lab.A, lab.B])
        {
            if (end.Device.Implementation == Implementation.Trellis)
            {
                // What the daemon says it got from the kernel: TSO with offloads, nothing without.
                Assert.Contains(offload ? "offloads: Checksum, Tso4, Tso6" : "offloads: None", end.Device.Process.Output, StringComparison.Ordinal);
                Assert.Contains(
                    offload ? "UDP segmentation: on, receive coalescing: on" : "UDP segmentation: off, receive coalescing: off",
                    end.Device.Process.Output,
                    StringComparison.Ordinal);
            }
        }

        var portText = Port.ToString(CultureInfo.InvariantCulture);
        var server = await IperfServer.StartAsync(lab.B.Namespace, Port);

        foreach (var (ipv6, udp) in new[] { (false, false), (true, false), (true, true) })
        {
            var what = $"iperf3 {(udp ? "UDP" : "TCP")} over inner IPv{(ipv6 ? 6 : 4)}, {a} -> {b}, offloads {(offload ? "on" : "off")}";
            string[] arguments = ["-c", lab.B.Inner(ipv6).ToString(), "-p", portText, "-t", Seconds.ToString(CultureInfo.InvariantCulture), "-J"];
            var client = await lab.A.Namespace.ExecAsync(
                "iperf3",
                udp ? [.. arguments, "-u", "-b", "300M", "-l", "1400"] : arguments,
                new CommandOptions { Timeout = TimeSpan.FromSeconds(Seconds + 30) });
            Assert.True(client.Succeeded, $"{what}: client failed: {client}\nserver: {server.Output}");

            using var report = JsonDocument.Parse(client.StandardOutput);
            var end = report.RootElement.GetProperty("end");
            var received = udp
                ? end.GetProperty("sum").GetProperty("bits_per_second").GetDouble() * (1 - (end.GetProperty("sum").GetProperty("lost_percent").GetDouble() / 100))
                : end.GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}, {Seconds} s: {received / 1e9:0.000} Gbit/s received"));
            Assert.True(received > 0, $"{what}: {received} bits/s received");
        }

        await server.StopAsync();
    }
}
