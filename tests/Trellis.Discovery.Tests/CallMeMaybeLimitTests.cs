using Trellis.Core.Transport;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery.Tests;

public sealed class CallMeMaybeLimitTests : IDisposable
{
    private readonly DiscoTestBed _bed = new();

    [Fact]
    public async Task A_flood_of_valid_call_me_maybes_from_one_peer_starts_a_bounded_number_of_probe_rounds()
    {
        var a = _bed.Node("10.0.0.1");
        var peer = _bed.FakePeer("10.0.0.9");
        var target = Endpoint.FromAddressBytes([10, 0, 0, 50], 4242);
        _bed.Watch(target, peer.Sealer);
        a.Bind.SetPeers([peer.AsPeer()]);

        // Every message is sealed with the peer's real disco key: only the rate gives the flood away.
        for (var i = 0; i < 100; i++)
        {
            peer.SendDisco(a, DiscoMessage.CallMeMaybe([target]));
        }

        await peer.RoundTripAsync(a);
        Assert.Equal(DiscoveryBind.CallMeMaybeBurst, _bed.PingsSent(a.Local, target));
        Assert.Equal(100 - DiscoveryBind.CallMeMaybeBurst, a.Bind.CallMeMaybeLimited);

        // The budget refills: one more round per interval, however many arrive (beside the rounds of
        // the prompt re-probe the first new candidate started, bounded on their own).
        _bed.Time.Advance(DiscoveryBind.CallMeMaybeEvery);
        var reprobed = (int)a.Bind.ReprobeRounds;
        for (var i = 0; i < 10; i++)
        {
            peer.SendDisco(a, DiscoMessage.CallMeMaybe([target]));
        }

        await peer.RoundTripAsync(a);
        Assert.Equal(DiscoveryBind.CallMeMaybeBurst + reprobed + 1, _bed.PingsSent(a.Local, target));
        Assert.Equal(100 - DiscoveryBind.CallMeMaybeBurst + 9, a.Bind.CallMeMaybeLimited);
    }

    [Fact]
    public async Task A_call_me_maybe_naming_one_endpoint_many_times_pings_it_once()
    {
        var a = _bed.Node("10.0.0.1");
        var peer = _bed.FakePeer("10.0.0.9");
        var target = Endpoint.FromAddressBytes([10, 0, 0, 50], 4242);
        _bed.Watch(target, peer.Sealer);
        a.Bind.SetPeers([peer.AsPeer()]);

        peer.SendDisco(a, DiscoMessage.CallMeMaybe(Enumerable.Repeat(target, DiscoCodec.MaxEndpoints)));

        await peer.RoundTripAsync(a);
        Assert.Equal(1, _bed.PingsSent(a.Local, target));
    }

    public void Dispose() => _bed.Dispose();
}
