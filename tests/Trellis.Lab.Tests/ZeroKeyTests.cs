using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>
/// The all-zero public key is a peer like any other to `wg set`, as the kernel's and wireguard-go's
/// devices take it; it simply never completes a handshake, and the other peers keep working.
/// </summary>
public sealed class ZeroKeyTests(ITestOutputHelper output)
{
    private const string ZeroKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    private static readonly LabAddress ZeroPeerNetwork = LabAddress.Parse("10.99.0.0/24");
    private static readonly LabAddress ZeroPeerHost = LabAddress.Parse("10.99.0.1/32");

    [Theory]
    [InlineData(Implementation.Trellis)]
    [InlineData(Implementation.WireGuardGo)]
    public async Task The_zero_key_is_accepted_as_a_peer_that_never_handshakes(Implementation a)
    {
        await using var lab = await TunnelLab.StartAsync(a, Implementation.Trellis, output);

        var set = await lab.A.Device.WgAsync("set", lab.A.Device.Name, "peer", ZeroKey, "allowed-ips", ZeroPeerNetwork.ToString());
        Assert.True(set.Succeeded, $"`wg set` refused the zero key: {set}");
        var peers = (await lab.A.Device.WgAsync("show", lab.A.Device.Name, "peers")).EnsureSuccess().StandardOutput;
        Assert.Contains(ZeroKey, peers, StringComparison.Ordinal);

        await lab.A.Namespace.IpAsync("route", "add", ZeroPeerNetwork.ToString(), "dev", lab.A.Device.Name);
        await lab.A.Device.SetPeerAsync(new WireGuardPeerConfig(ZeroKey) { Endpoint = lab.B.Endpoint(Underlay.IPv4) });
        var toZero = await Pinger.PingAsync(lab.A.Namespace, ZeroPeerHost.Address, count: 2);
        Assert.False(toZero.AnyReceived, $"a peer with the zero key answered: {toZero}");

        await lab.AssertPingsAsync(lab.A, ipv6: false);
        var handshakes = await lab.A.Device.GetLatestHandshakesAsync();
        Assert.Equal(0, handshakes[ZeroKey]);
        Assert.NotEqual(0, handshakes[lab.B.Keys.PublicKey]);
    }
}
