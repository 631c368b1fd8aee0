using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>
/// An underlay the kernel will not send Trellis's segmented UDP over: both veth ends at an MTU below
/// the tunnel's packets (1420 inside + 60 = 1480 bytes; the kernel answers EMSGSIZE, or EINVAL on
/// older kernels), without transmit checksum offload (EIO on kernels that need it for UDP GSO) and
/// with receive merging (GRO) off. Trellis says once on its output that it fell back (toward that
/// peer for EMSGSIZE, a path's reason; for the socket otherwise), and the tunnel then carries what a
/// user checks, each datagram sent on its own and fragmented by the kernel.
/// </summary>
public sealed class SegmentationFallbackTests(ITestOutputHelper output)
{
    private const int UnderlayMtu = 1400;
    private const int Port = 5201;
    private const int TransferBytes = 32 << 20;
    private const string FellBack = "refused a segmented send"; // in either line: a path's refusal or the socket's

    [Theory]
    [InlineData(Implementation.Trellis, Implementation.Trellis)]
    [InlineData(Implementation.Trellis, Implementation.WireGuardGo)]
    [InlineData(Implementation.WireGuardGo, Implementation.Trellis)]
    public async Task A_path_that_refuses_udp_segmentation_still_carries_pings_and_a_transfer_both_ways(Implementation a, Implementation b)
    {
        LabRequirements.EnsureAvailable([.. LabRequirements.WireGuardLabTools, "ethtool"]);
        await using var lab = await TunnelLab.StartAsync(a, b, output);
        foreach (var end in (TunnelEnd[])[lab.A, lab.B])
        {
            var device = end.Underlay.InterfaceName;
            (await end.Namespace.IpAsync("link", "set", "dev", device, "mtu", UnderlayMtu.ToString(CultureInfo.InvariantCulture))).EnsureSuccess();
            (await end.Namespace.ExecAsync("ethtool", "-K", device, "tx", "off", "gro", "off")).EnsureSuccess();
            if (end.Device.Implementation == Implementation.Trellis)
            {
                // written once the device is up, which may be just after its UAPI socket (what the lab waits for) opened
                await Poll.UntilAsync(() => end.Device.Process.Output.Contains("UDP segmentation: on", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the device to say UDP segmentation is on");
            }
        }

        await lab.AssertPingsAsync(lab.A, ipv6: false);
        await lab.AssertPingsAsync(lab.B, ipv6: true);

        var portText = Port.ToString(CultureInfo.InvariantCulture);
        var server = await IperfServer.StartAsync(lab.B.Namespace, Port);

        // A -> B over inner IPv4, then B -> A (reversed) over inner IPv6: each Trellis side sends full-size packets.
        foreach (var (ipv6, reverse) in new[] { (false, false), (true, true) })
        {
            var what = $"{TransferBytes >> 20} MiB over inner IPv{(ipv6 ? 6 : 4)}, {(reverse ? $"{b} -> {a}" : $"{a} -> {b}")}";
            string[] arguments = ["-c", lab.B.Inner(ipv6).ToString(), "-p", portText, "-n", TransferBytes.ToString(CultureInfo.InvariantCulture), "-J"];
            var client = await lab.A.Namespace.ExecAsync(
                "iperf3",
                reverse ? [.. arguments, "-R"] : arguments,
                new CommandOptions { Timeout = TimeSpan.FromSeconds(90) });
            Assert.True(client.Succeeded, $"{what}: iperf3 failed: {client}\nserver: {server.Output}");

            // All of it was sent: TCP can write that much only as the tunnel delivers it. The
            // receiver counts up to the end of the test, less what was still in flight then.
            using var report = JsonDocument.Parse(client.StandardOutput);
            var end = report.RootElement.GetProperty("end");
            var sent = end.GetProperty("sum_sent").GetProperty("bytes").GetInt64();
            var received = end.GetProperty("sum_received");
            var bytes = received.GetProperty("bytes").GetInt64();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: {sent} bytes sent, {bytes} received by the end, {received.GetProperty("bits_per_second").GetDouble() / 1e9:0.000} Gbit/s"));
            Assert.True(sent >= TransferBytes, $"{what}: only {sent} bytes sent");
            Assert.True(bytes >= TransferBytes / 2, $"{what}: only {bytes} bytes arrived");
        }

        await server.StopAsync();

        // Large pings: each datagram is over the underlay's MTU, so it leaves in fragments.
        foreach (var (from, ipv6) in new[] { (lab.A, false), (lab.B, true) })
        {
            var ping = await Pinger.PingAsync(from.Namespace, lab.PeerOf(from).Inner(ipv6), count: 3, payloadSize: 1350, waitForEach: true);
            Assert.True(ping.AllReceived, $"{from} -> {lab.PeerOf(from)} large pings over inner IPv{(ipv6 ? 6 : 4)}: {ping}");
        }

        foreach (var end in (TunnelEnd[])[lab.A, lab.B])
        {
            if (end.Device.Implementation == Implementation.Trellis)
            {
                // What the user reads: the daemon's output names the fall-back and the kernel's reason.
                await Poll.UntilAsync(
                    () => end.Device.Process.Output.Contains(FellBack, StringComparison.Ordinal),
                    TimeSpan.FromSeconds(10),
                    $"{end} to report that it fell back from UDP segmentation");
                output.WriteLine($"{end}: {end.Device.Process.Output.Split('\n').First(line => line.Contains(FellBack, StringComparison.Ordinal))}");
            }
        }
    }
}
