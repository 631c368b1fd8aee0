using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>
/// netns.sh's roaming: B's underlay address (and, as in netns.sh, its listen port) changes; once B
/// speaks again A follows it to the new endpoint and answers there.
/// </summary>
/// <remarks>
/// As in netns.sh, B re-applies its endpoint for A after moving. That resets wireguard-go's cached
/// ("sticky") source address: wireguard-go v0.0.20220316 retries without it only on EINVAL, which IPv6
/// gives for a vanished source but IPv4 does not (ENETUNREACH), so without the reset its IPv4 side
/// never sends again. The kernel implementation recovers by itself.
/// </remarks>
public sealed class RoamingTests(ITestOutputHelper output)
{
    private const int MovedListenPort = 51999;

    [Theory]
    [MemberData(nameof(Pairs.ByUnderlay), MemberType = typeof(Pairs))]
    public async Task A_peer_that_changes_address_is_followed(Implementation a, Implementation b, Underlay underlay)
    {
        await using var lab = await TunnelLab.StartAsync(a, b, output, underlay);
        await lab.AssertPingsAsync(lab.A, ipv6: false);
        var before = await lab.A.Device.GetEndpointsAsync();
        Assert.Equal(lab.B.Endpoint(underlay), before[lab.B.Keys.PublicKey]);

        var moved = LabAddress.Parse(underlay == Underlay.IPv6 ? "fd10::3/64" : "10.0.0.3/24");
        await lab.B.Underlay.ChangeAddressAsync(moved);
        await lab.B.Device.SetListenPortAsync(MovedListenPort);
        Assert.Equal(MovedListenPort, await lab.B.Device.GetListenPortAsync());
        await lab.B.Device.SetPeerAsync(new WireGuardPeerConfig(lab.A.Keys.PublicKey) { Endpoint = lab.A.Endpoint(underlay) });
        var expected = moved.Endpoint(MovedListenPort);

        // B speaks first from its new address; A must answer there and show the new endpoint.
        await lab.AssertPingsAsync(lab.B, ipv6: false);
        string? seen = null;
        await Poll.UntilAsync(
            async ct =>
            {
                seen = (await lab.A.Device.GetEndpointsAsync(ct))[lab.B.Keys.PublicKey];
                return seen == expected;
            },
            TimeSpan.FromSeconds(10),
            $"A's endpoint for B to become {expected}");
        output.WriteLine($"A's endpoint for B: {before[lab.B.Keys.PublicKey]} -> {seen}");

        await lab.AssertPingsAsync(lab.A, ipv6: true);
    }
}
