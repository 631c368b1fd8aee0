using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>
/// Cryptokey routing on receive: a packet from B whose inner source is not in A's allowed-ips for B
/// is dropped by A's WireGuard. A's TUN receive counter proves where: a reply could be lost on A's
/// way back anyway (A has no peer for the forged address), but the request must never reach A's kernel.
/// </summary>
public sealed class SourceFilterTests(ITestOutputHelper output)
{
    private static readonly LabAddress ForgedIPv4 = LabAddress.Parse("192.168.241.3/32");
    private static readonly LabAddress ForgedIPv6 = LabAddress.Parse("fd00::3/128");

    [Theory]
    [MemberData(nameof(Pairs.All), MemberType = typeof(Pairs))]
    public async Task Packets_with_a_forged_inner_source_are_dropped(Implementation a, Implementation b)
    {
        await using var lab = await TunnelLab.StartAsync(a, b, output);
        await lab.AssertPingsAsync(lab.B, ipv6: false);
        await lab.AssertPingsAsync(lab.B, ipv6: true);
        await lab.B.Device.AddAddressAsync(ForgedIPv4);
        await lab.B.Device.AddAddressAsync(ForgedIPv6);

        var deliveredBefore = await lab.A.Device.GetTunReceivedPacketsAsync();
        var forged4 = await Pinger.PingAsync(lab.B.Namespace, lab.A.InnerIPv4.Address, count: 2, source: ForgedIPv4.Address);
        var forged6 = await Pinger.PingAsync(lab.B.Namespace, lab.A.InnerIPv6.Address, count: 2, source: ForgedIPv6.Address);
        var deliveredAfter = await lab.A.Device.GetTunReceivedPacketsAsync();

        Assert.False(forged4.AnyReceived, $"ping from forged {ForgedIPv4.Address} was answered: {forged4}");
        Assert.False(forged6.AnyReceived, $"ping from forged {ForgedIPv6.Address} was answered: {forged6}");
        Assert.True(
            deliveredBefore == deliveredAfter,
            $"A wrote {deliveredAfter - deliveredBefore} packet(s) with a forged source into its TUN");

        // With the extra addresses B's kernel might pick one as the source; name the real one.
        await lab.AssertPingsAsync(lab.B, ipv6: false, explicitSource: true);
        await lab.AssertPingsAsync(lab.B, ipv6: true, explicitSource: true);
        Assert.True(await lab.A.Device.GetTunReceivedPacketsAsync() > deliveredAfter, "ordinary pings did not reach A's TUN");
    }
}
