using Trellis.Core.Control;
using Trellis.Core.Transport;

namespace Trellis.Discovery.Tests;

/// <summary>
/// Two nodes that cannot reach each other directly (every datagram between them dropped, as
/// between two NATs that map per destination) and a third that both reach: when the third relays
/// for peers, the pair's WireGuard packets go over UDP through it, restored and attributed to the
/// right peer on arrival; when it does not, the pair stays on the relay. On a fake clock.
/// </summary>
public sealed class PeerRelayTests : IDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);

    private readonly DiscoTestBed _bed = new();

    [Fact]
    public async Task A_pair_that_cannot_punch_talks_through_a_peer_relay_and_status_names_it()
    {
        var (a, b, r) = Triangle(serves: true);

        await RunUntilAsync(a, b, () => OnPeerRelay(a, b, r) && OnPeerRelay(b, a, r), TimeSpan.FromSeconds(40));
        var status = a.Bind.GetStatus(b.NodeKey)!;
        Assert.Equal(PathKind.PeerRelay, status.Path);
        Assert.Equal(r.NodeKey, status.PeerRelay);
        Assert.Equal(r.Local, status.DirectEndpoint);
        Assert.Equal(1, r.Bind.PeerRelayPairs);

        // WireGuard's packets now cross the peer relay, arrive as sent and from the sender's synthetic endpoint.
        var forwardedBefore = r.Bind.PeerRelayForwarded;
        var relayedBefore = a.Bind.RelaySent;
        var sentBefore = a.Bind.PeerRelaySent;
        b.Received.Clear();
        a.SendWireGuard(b.NodeKey, 3);
        var fromA = b.Bind.SyntheticEndpointOf(a.NodeKey)!.Value;
        await TestNode.WaitForAsync(() => b.Received.Count(p => p.Source == fromA) >= 3, "A's packets at B");
        Assert.All(b.Received.Where(p => p.Source == fromA), p => Assert.Equal(new byte[] { 4, 0, 0, 0 }, p.Data[..4]));
        Assert.Equal(sentBefore + 3, a.Bind.PeerRelaySent);
        Assert.True(r.Bind.PeerRelayForwarded >= forwardedBefore + 3);
        Assert.Equal(relayedBefore, a.Bind.RelaySent);
        Assert.True(b.Bind.PeerRelayReceived >= 3);
    }

    [Fact]
    public async Task An_offer_to_relay_that_arrives_as_a_change_to_the_peer_alone_is_taken_up()
    {
        var (a, b, r) = Triangle(serves: true, offerByUpdate: true);

        await RunUntilAsync(a, b, () => OnPeerRelay(a, b, r) && OnPeerRelay(b, a, r), TimeSpan.FromSeconds(40));
        Assert.Equal(r.NodeKey, a.Bind.GetStatus(b.NodeKey)!.PeerRelay);
        Assert.Equal(1, r.Bind.PeerRelayPairs);
    }

    [Fact]
    public async Task The_requests_go_on_the_pongs_that_prove_the_relay_so_the_pair_needs_no_later_tick()
    {
        // R unreachable until both sides' requests are due and wait for a proven path to R. Then one
        // tick probes R, and the clock stands still: only events (the pongs, the requests, the
        // relay's proof of each asker, the grants, the pings through the legs) can bring the pair
        // onto the peer relay. A request left for a later tick would never go. Nothing here depends
        // on which node's thread runs first: each step waits for the event before it, not for time.
        var unreachable = true;
        var (a, b, r) = Triangle(serves: true, relayUnreachable: () => Volatile.Read(ref unreachable));
        await RunUntilAsync(a, b, () => false, DiscoveryBind.PeerRelayAfter + TimeSpan.FromSeconds(2), mustHold: false);
        Assert.False(HasDirect(a, r));
        Assert.False(HasDirect(b, r));
        Assert.Equal(0, r.Bind.PeerRelayPairs);

        Volatile.Write(ref unreachable, false);
        _bed.Time.Advance(TimeSpan.FromSeconds(1));
        await TestNode.WaitForAsync(() => OnPeerRelay(a, b, r) && OnPeerRelay(b, a, r), "the pair on the peer relay with the clock standing still");
        Assert.Equal(1, r.Bind.PeerRelayPairs);

        // And the pair's packets cross it, still without a tick.
        var fromA = b.Bind.SyntheticEndpointOf(a.NodeKey)!.Value;
        b.Received.Clear();
        a.SendWireGuard(b.NodeKey, 3);
        await TestNode.WaitForAsync(() => b.Received.Count(p => p.Source == fromA) >= 3, "A's packets at B through the peer relay");
    }

    [Fact]
    public async Task A_node_that_does_not_relay_for_peers_forwards_nothing_and_the_pair_stays_on_the_relay()
    {
        var (a, b, r) = Triangle(serves: false);

        await RunUntilAsync(a, b, () => false, TimeSpan.FromSeconds(20), mustHold: false);
        Assert.Equal(PathKind.Relay, a.Bind.GetStatus(b.NodeKey)!.Path);
        Assert.Equal(PathKind.Relay, b.Bind.GetStatus(a.NodeKey)!.Path);
        Assert.Equal(0, r.Bind.PeerRelayForwarded);
        Assert.Equal(0, r.Bind.PeerRelayPairs);
    }

    [Fact]
    public async Task A_relay_serves_no_pair_the_policy_does_not_let_both_reach_it()
    {
        var (a, b, r) = Triangle(serves: true);
        r.Bind.SetPeerRelayClients(new HashSet<Trellis.Core.Keys.Key> { a.NodeKey });

        await RunUntilAsync(a, b, () => false, TimeSpan.FromSeconds(20), mustHold: false);
        Assert.Equal(PathKind.Relay, a.Bind.GetStatus(b.NodeKey)!.Path);
        Assert.Equal(0, r.Bind.PeerRelayPairs);
        Assert.Equal(0, r.Bind.PeerRelayForwarded);
    }

    [Fact]
    public async Task A_relay_serves_no_pair_with_a_node_outside_its_own_map()
    {
        // Under a policy, a relay's map holds only the peers it may reach or be reached by: here not B.
        var (a, b, r) = Triangle(serves: true);
        r.Bind.SetPeers([a.AsPeer()]);

        await RunUntilAsync(a, b, () => false, TimeSpan.FromSeconds(20), mustHold: false);
        Assert.Equal(PathKind.Relay, a.Bind.GetStatus(b.NodeKey)!.Path);
        Assert.Equal(PathKind.Relay, b.Bind.GetStatus(a.NodeKey)!.Path);
        Assert.Equal(0, r.Bind.PeerRelayPairs);
        Assert.Equal(0, r.Bind.PeerRelayForwarded);
    }

    [Fact]
    public async Task A_direct_path_once_open_takes_over_from_the_peer_relay()
    {
        var blocked = true;
        var (a, b, r) = Triangle(serves: true, blocked: () => Volatile.Read(ref blocked));
        await RunUntilAsync(a, b, () => OnPeerRelay(a, b, r) && OnPeerRelay(b, a, r), TimeSpan.FromSeconds(40));

        Volatile.Write(ref blocked, false);
        await RunUntilAsync(a, b, () => a.Bind.GetStatus(b.NodeKey)!.Path == PathKind.Direct && b.Bind.GetStatus(a.NodeKey)!.Path == PathKind.Direct, TimeSpan.FromSeconds(20));
        Assert.Equal(b.Local, a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint);
    }

    [Fact]
    public async Task When_the_chosen_peer_relay_stops_answering_the_pair_moves_to_another()
    {
        var a = _bed.Node("10.0.0.1");
        var b = _bed.Node("10.0.0.2");
        var r1 = _bed.Node("10.0.0.3");
        var r2 = _bed.Node("10.0.0.4");
        Endpoint? dead = null;
        _bed.Network.Drop = (source, destination, _) =>
            (source != destination && (source == a.Local || source == b.Local) && (destination == a.Local || destination == b.Local))
            || (dead is { } d && (source == d || destination == d));
        foreach (var n in new[] { a, b, r1, r2 })
        {
            n.Bind.SetLocalEndpoints([n.Local]);
        }

        r1.Bind.ServesPeerRelay = true;
        r2.Bind.ServesPeerRelay = true;
        var relays = new[] { r1.AsPeer() with { PeerRelay = true }, r2.AsPeer() with { PeerRelay = true } };
        a.Bind.SetPeers([b.AsPeer(), .. relays]);
        b.Bind.SetPeers([a.AsPeer(), .. relays]);
        r1.Bind.SetPeers([a.AsPeer(), b.AsPeer(), r2.AsPeer()]);
        r2.Bind.SetPeers([a.AsPeer(), b.AsPeer(), r1.AsPeer()]);

        await RunUntilAsync(a, b, () => OnAnyPeerRelay(a, b) && OnAnyPeerRelay(b, a), TimeSpan.FromSeconds(40));
        var chosen = a.Bind.GetStatus(b.NodeKey)!.PeerRelay == r1.NodeKey ? r1 : r2;
        var other = chosen == r1 ? r2 : r1;
        Assert.Equal(chosen.NodeKey, b.Bind.GetStatus(a.NodeKey)!.PeerRelay);

        // The chosen relay goes silent (every datagram to or from it lost): both ends move to the other one.
        dead = chosen.Local;
        await RunUntilAsync(a, b, () => OnPeerRelay(a, b, other) && OnPeerRelay(b, a, other), TimeSpan.FromSeconds(90));

        // And the pair's packets cross it.
        var forwardedBefore = other.Bind.PeerRelayForwarded;
        var fromA = b.Bind.SyntheticEndpointOf(a.NodeKey)!.Value;
        b.Received.Clear();
        a.SendWireGuard(b.NodeKey, 3);
        await TestNode.WaitForAsync(() => b.Received.Count(p => p.Source == fromA) >= 3, "A's packets at B through the other peer relay");
        Assert.True(other.Bind.PeerRelayForwarded >= forwardedBefore + 3);
    }

    private static bool HasDirect(TestNode from, TestNode to) =>
        from.Bind.GetStatus(to.NodeKey) is { Path: PathKind.Direct };

    private static bool OnAnyPeerRelay(TestNode from, TestNode to) =>
        from.Bind.GetStatus(to.NodeKey) is { Path: PathKind.PeerRelay };

    private static bool OnPeerRelay(TestNode from, TestNode to, TestNode relay) =>
        from.Bind.GetStatus(to.NodeKey) is { Path: PathKind.PeerRelay } s && s.PeerRelay == relay.NodeKey;

    /// <summary>
    /// A and B, every datagram between them dropped (while <paramref name="blocked"/> says so); R,
    /// reachable by both (except while <paramref name="relayUnreachable"/> says not), relaying for peers if <paramref name="serves"/>.
    /// </summary>
    /// <param name="offerByUpdate">The relay's offer arrives after the first map, as a delta's change to the peer (<see cref="DiscoveryBind.UpdatePeers"/>).</param>
    private (TestNode A, TestNode B, TestNode R) Triangle(bool serves, Func<bool>? blocked = null, Func<bool>? relayUnreachable = null, bool offerByUpdate = false)
    {
        var a = _bed.Node("10.0.0.1");
        var b = _bed.Node("10.0.0.2");
        var r = _bed.Node("10.0.0.3");
        r.Bind.ServesPeerRelay = serves;
        blocked ??= () => true;
        relayUnreachable ??= () => false;
        _bed.Network.Drop = (source, destination, _) => source != destination
            && ((blocked() && (source == a.Local || source == b.Local) && (destination == a.Local || destination == b.Local))
                || (relayUnreachable() && (source == r.Local || destination == r.Local)));
        foreach (var n in new[] { a, b, r })
        {
            n.Bind.SetLocalEndpoints([n.Local]);
        }

        var relayPeer = r.AsPeer() with { PeerRelay = true };
        a.Bind.SetPeers([b.AsPeer(), offerByUpdate ? r.AsPeer() : relayPeer]);
        b.Bind.SetPeers([a.AsPeer(), offerByUpdate ? r.AsPeer() : relayPeer]);
        r.Bind.SetPeers([a.AsPeer(), b.AsPeer()]);
        if (offerByUpdate)
        {
            Assert.True(a.Bind.UpdatePeers([relayPeer]));
            Assert.True(b.Bind.UpdatePeers([relayPeer]));
        }

        return (a, b, r);
    }

    /// <summary>
    /// Traffic both ways each fake second, the clock moved on in quarter seconds until
    /// <paramref name="done"/> holds (at most <paramref name="limit"/>), everything each step sent
    /// handled before the next.
    /// </summary>
    private async Task RunUntilAsync(TestNode a, TestNode b, Func<bool> done, TimeSpan limit, bool mustHold = true)
    {
        // What the last step (or the map's first rounds) sent is handled at the time it was sent.
        await _bed.SettledAsync();
        for (var t = TimeSpan.Zero; t < limit && !done(); t += Step)
        {
            if (t.Milliseconds == 0)
            {
                a.SendWireGuard(b.NodeKey);
                b.SendWireGuard(a.NodeKey);
            }

            _bed.Time.Advance(Step);
            await _bed.SettledAsync();
        }

        if (mustHold)
        {
            await TestNode.WaitForAsync(done, "the expected paths");
        }
    }

    public void Dispose() => _bed.Dispose();
}
