using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>
/// netns.sh's basic checks: ping inside the tunnel over IPv4 and IPv6, carried over an IPv4 or an
/// IPv6 underlay, with either side sending first (and so initiating the handshake).
/// </summary>
public sealed class PingTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(Pairs.ByUnderlayAndInitiator), MemberType = typeof(Pairs))]
    public async Task Pings_cross_the_tunnel_in_both_inner_families(Implementation a, Implementation b, Underlay underlay, Side initiator)
    {
        await using var lab = await TunnelLab.StartAsync(a, b, output, underlay);
        var first = lab[initiator];
        var second = lab.PeerOf(first);

        // Nothing has been sent yet, so the first ping below is what starts the handshake.
        Assert.Equal(0, await first.Device.GetLatestHandshakeAsync(second.Keys.PublicKey));
        Assert.Equal(0, await second.Device.GetLatestHandshakeAsync(first.Keys.PublicKey));

        await lab.AssertPingsAsync(first, ipv6: false);
        await lab.AssertPingsAsync(first, ipv6: true);
        await lab.AssertPingsAsync(second, ipv6: false);
        await lab.AssertPingsAsync(second, ipv6: true);

        Assert.NotEqual(0, await first.Device.GetLatestHandshakeAsync(second.Keys.PublicKey));
        Assert.NotEqual(0, await second.Device.GetLatestHandshakeAsync(first.Keys.PublicKey));
        var endpoints = await second.Device.GetEndpointsAsync();
        Assert.Equal(first.Endpoint(underlay), endpoints[first.Keys.PublicKey]);
    }
}
