using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>A peer configured with the wrong public key never completes a handshake, in either direction.</summary>
public sealed class WrongKeyTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(Pairs.All), MemberType = typeof(Pairs))]
    public async Task A_wrong_public_key_gets_no_handshake(Implementation a, Implementation b)
    {
        await using var lab = await TunnelLab.StartAsync(a, b, output, wrongKeyForBOnA: true);

        var fromA = await Pinger.PingAsync(lab.A.Namespace, lab.B.InnerIPv4.Address, count: 3);
        var fromB = await Pinger.PingAsync(lab.B.Namespace, lab.A.InnerIPv4.Address, count: 3);
        Assert.False(fromA.AnyReceived, $"A -> B answered despite the wrong key: {fromA}");
        Assert.False(fromB.AnyReceived, $"B -> A answered despite the wrong key: {fromB}");

        var atA = await lab.A.Device.GetLatestHandshakesAsync();
        var atB = await lab.B.Device.GetLatestHandshakesAsync();
        Assert.Single(atA);
        Assert.Single(atB);
        Assert.All(atA.Values, seconds => Assert.Equal(0, seconds));
        Assert.All(atB.Values, seconds => Assert.Equal(0, seconds));
    }
}
