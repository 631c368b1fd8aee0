using Trellis.Core.Transport;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery.Tests;

/// <summary>
/// Convergence on a fake clock: a pair moves to a better path within seconds of it appearing, not
/// at the 60 s re-probe, and stays there; the prompt re-probe is bounded in packets; while a direct
/// path is in doubt, packets go over it and the relay both.
/// </summary>
public sealed class ConvergenceTests : IDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);

    private readonly DiscoTestBed _bed = new();

    [Fact]
    public async Task A_pair_on_IPv4_while_IPv6_is_blocked_moves_to_IPv6_within_5_s_of_the_lift_and_stays()
    {
        var v6Blocked = true;
        _bed.Network.Drop = (_, destination, _) => Volatile.Read(ref v6Blocked) && !destination.IsIPv4;
        var (a, aSocket) = _bed.DualStackNode("10.0.0.1", "2001:db8::1");
        var (b, bSocket) = _bed.DualStackNode("10.0.0.2", "2001:db8::2");
        Endpoint[] aEndpoints = [aSocket.LocalV4, aSocket.LocalV6];
        Endpoint[] bEndpoints = [bSocket.LocalV4, bSocket.LocalV6];
        a.Bind.SetLocalEndpoints(aEndpoints);
        b.Bind.SetLocalEndpoints(bEndpoints);
        a.Bind.SetPeers([new DiscoPeer(b.NodeKey, b.Bind.DiscoPublicKey, bEndpoints, 900)]);
        b.Bind.SetPeers([new DiscoPeer(a.NodeKey, a.Bind.DiscoPublicKey, aEndpoints, 900)]);

        await TestNode.WaitForAsync(() => DirectEndpoint(a, b) == bSocket.LocalV4 && DirectEndpoint(b, a) == aSocket.LocalV4, "direct IPv4 both ways");
        await _bed.SettledAsync();

        // 20 s on IPv4 with traffic: the prompt re-probe after coming up has long ended.
        await RunAsync(a, b, TimeSpan.FromSeconds(20), () =>
        {
            Assert.Equal(bSocket.LocalV4, DirectEndpoint(a, b));
            Assert.Equal(aSocket.LocalV4, DirectEndpoint(b, a));
        });

        Volatile.Write(ref v6Blocked, false);
        var lifted = _bed.Time.GetUtcNow();
        DateTimeOffset? bothOnV6 = null;
        await RunAsync(a, b, TimeSpan.FromSeconds(5), () =>
        {
            if (bothOnV6 is null && DirectEndpoint(a, b) == bSocket.LocalV6 && DirectEndpoint(b, a) == aSocket.LocalV6)
            {
                bothOnV6 = _bed.Time.GetUtcNow();
            }
        });
        Assert.True(bothOnV6 is not null, $"5 s after the lift: A -> B on {DirectEndpoint(a, b)}, B -> A on {DirectEndpoint(b, a)}");
        Assert.InRange(bothOnV6.Value - lifted, TimeSpan.Zero, TimeSpan.FromSeconds(5));

        // Equal round trips on both families: IPv6 is kept, no flip-flop back.
        await RunAsync(a, b, TimeSpan.FromSeconds(30), () =>
        {
            Assert.Equal(bSocket.LocalV6, DirectEndpoint(a, b));
            Assert.Equal(aSocket.LocalV6, DirectEndpoint(b, a));
        });
    }

    [Fact]
    public async Task A_pair_on_slow_IPv6_while_IPv4_is_blocked_moves_to_IPv4_within_seconds_of_the_lift_and_stays()
    {
        // A's IPv6 datagrams take a quarter second (a detour): both sides' IPv6 round trips do.
        var v4Blocked = true;
        _bed.Network.Drop = (_, destination, _) => Volatile.Read(ref v4Blocked) && destination.IsIPv4;
        var (a, aSocket) = _bed.DualStackNode("10.0.0.1", "2001:db8::1", v6Delay: Step);
        var (b, bSocket) = _bed.DualStackNode("10.0.0.2", "2001:db8::2");
        Endpoint[] aEndpoints = [aSocket.LocalV4, aSocket.LocalV6];
        Endpoint[] bEndpoints = [bSocket.LocalV4, bSocket.LocalV6];
        a.Bind.SetLocalEndpoints(aEndpoints);
        b.Bind.SetLocalEndpoints(bEndpoints);
        a.Bind.SetPeers([new DiscoPeer(b.NodeKey, b.Bind.DiscoPublicKey, bEndpoints, 900)]);
        b.Bind.SetPeers([new DiscoPeer(a.NodeKey, a.Bind.DiscoPublicKey, aEndpoints, 900)]);

        // 20 s on IPv6 with traffic: the prompt re-probe after coming up has long ended.
        await RunAsync(a, b, TimeSpan.FromSeconds(20), traffic: true);
        Assert.Equal(bSocket.LocalV6, DirectEndpoint(a, b));
        Assert.Equal(aSocket.LocalV6, DirectEndpoint(b, a));
        Assert.Equal(TimeSpan.FromMilliseconds(250), a.Bind.GetStatus(b.NodeKey)!.Latency);

        Volatile.Write(ref v4Blocked, false);
        var lifted = _bed.Time.GetUtcNow();
        DateTimeOffset? bothOnV4 = null;
        await RunAsync(a, b, TimeSpan.FromSeconds(8), () =>
        {
            if (bothOnV4 is null && DirectEndpoint(a, b) == bSocket.LocalV4 && DirectEndpoint(b, a) == aSocket.LocalV4)
            {
                bothOnV4 = _bed.Time.GetUtcNow();
            }
        });

        // The next heartbeat pings IPv4 (at most 3 s and a tick away); its pong arms the prompt
        // re-probe, whose first three rounds (1.75 s) give IPv4 the pongs it needs to beat IPv6.
        Assert.True(bothOnV4 is not null, $"8 s after the lift: A -> B on {DirectEndpoint(a, b)}, B -> A on {DirectEndpoint(b, a)}");
        Assert.InRange(bothOnV4.Value - lifted, TimeSpan.Zero, TimeSpan.FromSeconds(6));

        // IPv6 is pinged again and proven again beside it, still a quarter second slower: IPv4 is kept.
        await RunAsync(a, b, TimeSpan.FromSeconds(30), () =>
        {
            Assert.Equal(bSocket.LocalV4, DirectEndpoint(a, b));
            Assert.Equal(aSocket.LocalV4, DirectEndpoint(b, a));
        });
        Assert.NotNull(a.Bind.CandidateOf(b.NodeKey, bSocket.LocalV6).LastPong);
        Assert.True(_bed.Time.GetUtcNow() - a.Bind.CandidateOf(b.NodeKey, bSocket.LocalV6).LastPong < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task After_a_pair_comes_up_every_candidate_is_probed_again_4_times_in_4_s_and_no_more()
    {
        var a = _bed.Node("10.0.0.1");
        var b = _bed.Node("10.0.0.2");

        // B also lists an address where nobody answers (an old one, say): it is probed with the rest.
        var dead = _bed.Socket("10.0.0.3").LocalEndpoint;
        _bed.Watch(dead, new DiscoSealer(b.DiscoPrivate));
        a.Bind.SetLocalEndpoints([a.Local]);
        b.Bind.SetLocalEndpoints([b.Local]);
        a.Bind.SetPeers([b.AsPeer() with { Endpoints = [b.Local, dead] }]);
        b.Bind.SetPeers([a.AsPeer()]);
        await TestNode.WaitForAsync(() => DirectEndpoint(a, b) == b.Local, "A's direct path to B");
        await _bed.SettledAsync();
        Assert.Equal(1, _bed.PingsSent(a.Local, dead));

        // Rounds at 0.25, 0.75, 1.75 and 3.75 s (no traffic, so no heartbeats or periodic rounds).
        await RunAsync(a, b, TimeSpan.FromSeconds(4), traffic: false);
        Assert.Equal(5, _bed.PingsSent(a.Local, dead));

        await RunAsync(a, b, TimeSpan.FromSeconds(60), traffic: false);
        Assert.Equal(5, _bed.PingsSent(a.Local, dead));
    }

    [Fact]
    public async Task While_a_direct_paths_pongs_are_late_packets_go_over_it_and_the_relay_both()
    {
        var a = _bed.Node("10.0.0.1");
        var b = _bed.Node("10.0.0.2");
        a.Bind.SetLocalEndpoints([a.Local]);
        b.Bind.SetLocalEndpoints([b.Local]);
        b.Bind.SetPeers([a.AsPeer()]);
        a.Bind.SetPeers([b.AsPeer()]);
        await TestNode.WaitForAsync(() => DirectEndpoint(a, b) == b.Local, "A's direct path to B");
        await _bed.SettledAsync();
        long direct = 0;

        // B's pongs stop reaching A; WireGuard between them still flows directly (and B's wake-ups to itself).
        _bed.Network.Drop = (source, destination, packet) =>
        {
            if (DiscoveryBind.IsWireGuard(packet) && source == a.Local && destination == b.Local)
            {
                Interlocked.Increment(ref direct);
            }

            return source == b.Local && destination != b.Local && !DiscoveryBind.IsWireGuard(packet);
        };
        _bed.Time.Advance(TimeSpan.FromSeconds(7));
        await _bed.SettledAsync();
        Assert.Equal("relay", a.Bind.GetStatus(b.NodeKey)!.Path);

        a.SendWireGuard(b.NodeKey);
        await TestNode.WaitForAsync(() => b.Received.Count == 2, "the packet over both paths");
        Assert.Equal(1, Interlocked.Read(ref direct));
        Assert.Equal(1, a.Bind.RelaySent);
        Assert.Equal(1, a.Bind.BothSent);

        // Once the path has been silent twice as long, the relay alone carries it.
        _bed.Time.Advance(TimeSpan.FromSeconds(7));
        await _bed.SettledAsync();
        a.SendWireGuard(b.NodeKey);
        await TestNode.WaitForAsync(() => b.Received.Count == 3, "the packet over the relay");
        Assert.Equal(1, Interlocked.Read(ref direct));
        Assert.Equal(2, a.Bind.RelaySent);
    }

    [Fact]
    public async Task When_a_direct_path_stops_carrying_UDP_both_sides_add_the_relay_within_a_heartbeat_and_1_5_s_before_its_trust_lapses()
    {
        var (a, b) = _bed.Pair();
        await TestNode.WaitForAsync(() => DirectEndpoint(a, b) == b.Local && DirectEndpoint(b, a) == a.Local, "direct both ways");
        await _bed.SettledAsync();

        // Traffic for a while: the heartbeats (every 3 s) keep their rhythm, every pong on time.
        await RunAsync(a, b, TimeSpan.FromSeconds(10));
        Assert.Equal(0, a.Bind.RelaySent);
        Assert.Equal(0, b.Bind.RelaySent);

        // UDP between them stops (each node's wake-ups to itself still arrive); a packet each way every step.
        _bed.Network.Drop = (source, destination, _) => source.Address != destination.Address;
        var cut = _bed.Time.GetUtcNow();
        TimeSpan? bothRelayed = null;
        while (bothRelayed is null && _bed.Time.GetUtcNow() - cut < TimeSpan.FromSeconds(7))
        {
            a.SendWireGuard(b.NodeKey);
            b.SendWireGuard(a.NodeKey);
            await _bed.SettledAsync();
            if (a.Bind.RelaySent > 0 && b.Bind.RelaySent > 0)
            {
                bothRelayed = _bed.Time.GetUtcNow() - cut;

                // Before either trust lapsed: the pongs were overdue, not yet missing.
                Assert.Equal("direct", a.Bind.GetStatus(b.NodeKey)!.Path);
                Assert.Equal("direct", b.Bind.GetStatus(a.NodeKey)!.Path);
            }

            _bed.Time.Advance(Step);
        }

        // The next heartbeat is at most 3 s (and a tick) away, its pong overdue 1.5 s later; every relayed packet also went direct.
        Assert.NotNull(bothRelayed);
        Assert.InRange(bothRelayed.Value, DiscoveryBind.PongOverdueAfter, TimeSpan.FromSeconds(4) + DiscoveryBind.PongOverdueAfter);
        Assert.Equal(a.Bind.RelaySent, a.Bind.BothSent);
        Assert.Equal(b.Bind.RelaySent, b.Bind.BothSent);

        // UDP is back: the next pong ends the relay copies.
        _bed.Network.Drop = null;
        await RunAsync(a, b, TimeSpan.FromSeconds(4));
        var relayed = a.Bind.RelaySent + b.Bind.RelaySent;
        await RunAsync(a, b, TimeSpan.FromSeconds(10), () => Assert.Equal(relayed, a.Bind.RelaySent + b.Bind.RelaySent));
        Assert.Equal(b.Local, DirectEndpoint(a, b));
        Assert.Equal(a.Local, DirectEndpoint(b, a));
    }

    private static Endpoint? DirectEndpoint(TestNode from, TestNode to) => from.Bind.GetStatus(to.NodeKey) is { Path: "direct" } s ? s.DirectEndpoint : null;

    /// <summary>
    /// Moves the fake clock on by <paramref name="duration"/> in quarter seconds, both nodes sending a
    /// packet each second (unless not <paramref name="traffic"/>), everything each step sent handled
    /// before the next (so every round trip takes no fake time); then runs <paramref name="check"/>.
    /// </summary>
    private async Task RunAsync(TestNode a, TestNode b, TimeSpan duration, Action? check = null, bool traffic = true)
    {
        for (var t = TimeSpan.Zero; t < duration; t += Step)
        {
            if (traffic && t.Ticks % TimeSpan.TicksPerSecond == 0)
            {
                a.SendWireGuard(b.NodeKey);
                b.SendWireGuard(a.NodeKey);
            }

            _bed.Time.Advance(Step);
            await _bed.SettledAsync();
            check?.Invoke();
        }
    }

    public void Dispose() => _bed.Dispose();
}
