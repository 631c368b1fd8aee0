using System.Globalization;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>
/// A peer's endpoint that routes back into the same tunnel (here B's inner address, inside B's
/// allowed IPs) must not melt down: the kernel refuses such a send (ELOOP); Trellis drops its own
/// datagram when it comes back through the TUN. What the kernel hands the TUN stays a few packets
/// per ping, where a loop re-encrypting its own output moves hundreds of megabytes a second.
/// </summary>
public sealed class RoutingLoopTests(ITestOutputHelper output)
{
    private const long MaxBytesIntoTunnel = 1 << 20;

    [Theory]
    [InlineData(Implementation.Trellis, Implementation.Trellis)]
    [InlineData(Implementation.Trellis, Implementation.WireGuardGo)]
    public async Task An_endpoint_inside_the_tunnel_does_not_loop(Implementation a, Implementation b)
    {
        await using var lab = await TunnelLab.StartAsync(a, b, output);
        await lab.AssertPingsAsync(lab.A, ipv6: false);

        var inside = lab.B.InnerIPv4.Endpoint(TunnelLab.ListenPortB);
        await lab.A.Device.SetPeerAsync(new WireGuardPeerConfig(lab.B.Keys.PublicKey) { Endpoint = inside });
        var before = await lab.A.Namespace.ReadInterfaceStatisticAsync(lab.A.Device.Name, "tx_bytes");
        var ping = await Pinger.PingAsync(lab.A.Namespace, lab.B.InnerIPv4.Address, count: 10, intervalSeconds: 0.2);
        var after = await lab.A.Namespace.ReadInterfaceStatisticAsync(lab.A.Device.Name, "tx_bytes");

        output.WriteLine($"with B's endpoint at {inside}: {ping}; bytes into A's tunnel: {(after - before).ToString("N0", CultureInfo.InvariantCulture)}");
        Assert.False(ping.AnyReceived, $"B answered through an endpoint that only leads back into A's tunnel: {ping}");
        Assert.True(after - before < MaxBytesIntoTunnel, $"A's tunnel carried {after - before} bytes for 10 pings: a routing loop");
        Assert.False(lab.A.Device.Process.HasExited, "A's daemon died");
    }
}
