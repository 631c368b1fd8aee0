using System.Net;
using Trellis.Core.Transport;

namespace Trellis.Discovery.Tests;

/// <summary>
/// When the map lacks a node's real endpoint (the control server's copy lagging), its call-me-maybe
/// still carries the endpoint a third peer's pong reported, so a peer whose NAT only lets in what it
/// sent to first still punches through: on a fake clock.
/// </summary>
public sealed class ObservedEndpointTests : IDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);

    private readonly DiscoTestBed _bed = new();

    [Fact]
    public async Task A_node_the_map_lists_at_a_stale_endpoint_is_still_reached_directly_through_the_pong_it_got_from_a_third_peer()
    {
        var a = _bed.Node("10.0.0.1");
        var b = _bed.Node("10.0.0.2");
        var helper = _bed.Node("10.0.0.3");
        var stale = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.9"), 41641));

        // B filters as a NAT does: nothing from A gets in before B has sent to A's endpoint.
        var opened = 0;
        _bed.Network.Drop = (source, destination, _) =>
        {
            if (source == b.Local && destination == a.Local)
            {
                Interlocked.Exchange(ref opened, 1);
            }

            return source == a.Local && destination == b.Local && Volatile.Read(ref opened) == 0;
        };

        // Everyone's copy of A's endpoints is the stale one, A's own included.
        var aAsMapped = a.AsPeer() with { Endpoints = [stale] };
        a.Bind.SetLocalEndpoints([stale]);
        b.Bind.SetLocalEndpoints([b.Local]);
        helper.Bind.SetLocalEndpoints([helper.Local]);
        helper.Bind.SetPeers([aAsMapped]);
        b.Bind.SetPeers([aAsMapped]);
        a.Bind.SetPeers([b.AsPeer(), helper.AsPeer()]);

        // A's rounds: every 5 s while B has not answered (no traffic flows), each with a call-me-maybe.
        for (var t = TimeSpan.Zero; t < TimeSpan.FromSeconds(15) && !BothDirect(a, b); t += Step)
        {
            _bed.Time.Advance(Step);
            await _bed.SettledAsync();
        }

        await TestNode.WaitForAsync(() => BothDirect(a, b), "A and B direct both ways");
        Assert.Equal(a.Local, b.Bind.GetStatus(a.NodeKey)!.DirectEndpoint);
        Assert.Equal(b.Local, a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint);
    }

    private static bool BothDirect(TestNode a, TestNode b) =>
        a.Bind.GetStatus(b.NodeKey)?.Path == "direct" && b.Bind.GetStatus(a.NodeKey)?.Path == "direct";

    public void Dispose() => _bed.Dispose();
}
