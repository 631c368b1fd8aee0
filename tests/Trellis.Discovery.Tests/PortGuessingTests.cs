using System.Collections.Concurrent;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery.Tests;

/// <summary>
/// Port guessing on a fake clock: the easy side offers only after punching failed (or at once, beside
/// the first round, as soon as the map says the peer's NAT maps per destination and its own does not), sprays at most 1000 pings at 400 a second
/// and gives up; the hard side opens its sockets only when offered, closes them unmet after 10 s, and once a probe meets one, that socket alone carries the peer's
/// packets both ways. Off means none of it.
/// </summary>
public sealed class PortGuessingTests : IDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    private readonly DiscoTestBed _bed = new();

    // The fake clock's time when the test began.
    private readonly DateTimeOffset _start;

    // Pings from the node under test to the peer's public address (any port), and the fake time each left at.
    private readonly ConcurrentQueue<(Endpoint To, DateTimeOffset At)> _sprayed = new();

    public PortGuessingTests() => _start = _bed.Time.GetUtcNow();

    [Fact]
    public async Task An_easy_node_offers_after_punching_failed_then_sprays_at_most_1000_pings_at_400_a_second_and_gives_up()
    {
        var (easy, peer) = EasySideWithHardPeer();

        // Punching first: no offer in the first 5 s.
        await AdvanceAsync(DiscoveryBind.GuessOfferAfter - TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        Assert.Empty(peer.Guesses);
        await AdvanceAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        await TestNode.WaitForAsync(() => peer.Guesses.Count == 1, "the offer over the relay");
        Assert.Equal(PortGuessStep.Offer, peer.Guesses.Single());

        // Go: every 100 ms at most a tenth of a second's probes, all to the peer's public address.
        peer.SendGuess(easy, PortGuessStep.Go);
        await TestNode.WaitForAsync(() => easy.Bind.GuessProbes > 0, "the first probes");
        var start = _bed.Time.GetUtcNow();
        for (var t = TimeSpan.Zero; t <= PortSpray.GiveUpAfter + TimeSpan.FromSeconds(2); t += Step)
        {
            var sent = _sprayed.Count;
            _bed.Time.Advance(Step);
            Assert.InRange(_sprayed.Count - sent, 0, PortSpray.PerSecond / DiscoveryBind.GuessStepsPerSecond);
            var elapsed = _bed.Time.GetUtcNow() - start;
            Assert.InRange(_sprayed.Count, 0, (elapsed.Ticks * PortSpray.PerSecond / TimeSpan.TicksPerSecond) + (PortSpray.PerSecond / DiscoveryBind.GuessStepsPerSecond));
        }

        Assert.Equal(PortSpray.Budget, _sprayed.Count);
        Assert.Equal(PortSpray.Budget, easy.Bind.GuessProbes);
        Assert.All(_sprayed, p => Assert.InRange(p.To.Port, PortSpray.FirstPort, PortSpray.LastPort));
        Assert.True(_sprayed.Select(p => p.To.Port).Distinct().Count() > PortSpray.Budget / 2, "random ports, not one port over and over");

        // Nothing met: it gave up, and sprays no more.
        _bed.Time.Advance(Step);
        Assert.Equal(1, easy.Bind.GuessGaveUp);
        await AdvanceAsync(TimeSpan.FromSeconds(5), Step);
        Assert.Equal(PortSpray.Budget, _sprayed.Count);
        Assert.Equal("relay", easy.Bind.GetStatus(peer.NodeKey)!.Path);
    }

    [Fact]
    public async Task An_easy_node_offers_at_once_beside_the_first_round_when_the_map_says_the_peers_mapping_varies()
    {
        // No tick: the map update alone sends the round's pings and the offer, well before the 5 s of an unknown peer.
        var (_, peer) = EasySideWithHardPeer(mappingVaries: true);
        await TestNode.WaitForAsync(() => peer.Guesses.Count == 1, "the offer over the relay");
        Assert.Equal(PortGuessStep.Offer, peer.Guesses.Single());
        Assert.Equal(_start, peer.GuessTimes.Single());
        await TestNode.WaitForAsync(() => peer.Received.Any(m => m.Type == DiscoMessageType.Ping), "the round's ping to the peer's candidate");
    }

    [Fact]
    public async Task An_easy_node_offers_as_soon_as_an_update_says_the_peers_mapping_varies_without_waiting_for_a_tick()
    {
        var (easy, peer) = EasySideWithHardPeer();
        await AdvanceAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1));
        Assert.Empty(peer.Guesses);

        // Half a second past a tick, the peer's verdict arrives in an update naming the same candidates.
        _bed.Time.Advance(TimeSpan.FromMilliseconds(500));
        easy.Bind.SetPeers([peer.AsPeer(peer.Local, peer.Public) with { MappingVaries = true }]);
        await TestNode.WaitForAsync(() => peer.Guesses.Count == 1, "the offer over the relay");
        Assert.Equal(PortGuessStep.Offer, peer.Guesses.Single());
        Assert.Equal(_start + TimeSpan.FromSeconds(2.5), peer.GuessTimes.Single());
    }

    [Fact]
    public async Task An_easy_node_offers_as_soon_as_its_own_verdict_says_stable()
    {
        var (easy, peer) = EasySideWithHardPeer(mappingVaries: true, mapping: NatMapping.Unknown);
        await AdvanceAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1));
        await TestNode.WaitForAsync(() => _bed.Relay.Quiet, "the relay to deliver");
        Assert.Empty(peer.Guesses);

        _bed.Time.Advance(TimeSpan.FromMilliseconds(300));
        easy.Bind.SetNatMapping(NatMapping.Stable);
        await TestNode.WaitForAsync(() => peer.Guesses.Count == 1, "the offer over the relay");
        Assert.Equal(_start + TimeSpan.FromSeconds(2.3), peer.GuessTimes.Single());
    }

    [Fact]
    public async Task A_go_that_arrives_after_a_direct_path_answered_sprays_nothing()
    {
        // The offer leaves beside the first round; the peer's candidate answers that round's ping before the go comes back.
        var (easy, peer) = EasySideWithHardPeer(mappingVaries: true);
        await TestNode.WaitForAsync(() => peer.Guesses.Count == 1, "the offer over the relay");
        await TestNode.WaitForAsync(() => peer.Received.Any(m => m.Type == DiscoMessageType.Ping), "the round's ping to the peer's candidate");
        await peer.AnswerPingsAsync(easy);
        Assert.Equal(PathKind.Direct, easy.Bind.GetStatus(peer.NodeKey)!.Path);

        peer.SendGuess(easy, PortGuessStep.Go);
        await TestNode.WaitForAsync(() => _bed.Relay.Quiet, "the relay to deliver");
        await AdvanceAsync(TimeSpan.FromSeconds(1), Step);
        Assert.Equal(0, easy.Bind.GuessProbes);
        Assert.Empty(_sprayed);
    }

    [Fact]
    public async Task An_easy_node_makes_at_most_two_attempts_per_punch_window_12_s_apart_and_sprays_only_when_it_offered()
    {
        var (easy, peer) = EasySideWithHardPeer();

        // A go nobody asked for starts nothing.
        peer.SendGuess(easy, PortGuessStep.Go);
        await TestNode.WaitForAsync(() => _bed.Relay.Quiet, "the relay to deliver");
        Assert.Equal(0, easy.Bind.GuessProbes);

        await AdvanceAsync(PunchWindowLeft(), TimeSpan.FromSeconds(1));
        await TestNode.WaitForAsync(() => _bed.Relay.Quiet, "the relay to deliver");
        Assert.Equal(DiscoveryBind.MaxAttemptsPerWindow, easy.Bind.GuessOffers);
        Assert.Equal(DiscoveryBind.MaxAttemptsPerWindow, peer.Guesses.Count);
        Assert.Equal(DiscoveryBind.GuessRetryAfter, peer.GuessTimes.ElementAt(1) - peer.GuessTimes.ElementAt(0));

        // Long after: still two (a new window opens only on a new cause).
        await AdvanceAsync(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(1));
        Assert.Equal(DiscoveryBind.MaxAttemptsPerWindow, easy.Bind.GuessOffers);
    }

    [Fact]
    public async Task With_port_guessing_off_an_easy_node_neither_offers_nor_sprays_and_turning_it_off_stops_a_spray()
    {
        var (easy, peer) = EasySideWithHardPeer();
        easy.Bind.PortGuessing = false;
        await AdvanceAsync(PunchWindowLeft(), TimeSpan.FromSeconds(1));
        Assert.Equal(0, easy.Bind.GuessOffers);
        Assert.Empty(peer.Guesses);

        // On again (a new window: the peer names a new candidate), a spray starts; off stops it at once.
        easy.Bind.PortGuessing = true;
        easy.Bind.SetPeers([peer.AsPeer(peer.Local, peer.Public, Endpoint.FromAddressBytes([198, 51, 100, 9], 2))]);
        await AdvanceAsync(DiscoveryBind.GuessOfferAfter, TimeSpan.FromSeconds(1));
        await TestNode.WaitForAsync(() => peer.Guesses.Count == 1, "the offer");
        peer.SendGuess(easy, PortGuessStep.Go);
        await TestNode.WaitForAsync(() => easy.Bind.GuessProbes > 0, "the first probes");
        easy.Bind.PortGuessing = false;
        var sent = _sprayed.Count;
        await AdvanceAsync(TimeSpan.FromSeconds(5), Step);
        Assert.Equal(sent, _sprayed.Count);
    }

    [Fact]
    public async Task A_hard_node_opens_256_sockets_only_when_offered_pings_from_each_and_closes_them_unmet_after_10_s()
    {
        var sockets = new FakeGuessSockets();
        var (hard, peer) = HardSideWithEasyPeer(sockets);

        peer.SendGuess(hard, PortGuessStep.Offer);
        await TestNode.WaitForAsync(() => peer.Guesses.Count == 1, "the go over the relay");
        Assert.Equal(PortGuessStep.Go, peer.Guesses.Single());
        Assert.Equal(GuessSockets.Count, sockets.Opened.Count);
        Assert.Equal(GuessSockets.Count, hard.Bind.GuessSocketsOpened);
        Assert.All(sockets.Opened, s => Assert.Equal(peer.Local, Assert.Single(s.Sent).Destination));

        // A second offer while they wait opens nothing more.
        peer.SendGuess(hard, PortGuessStep.Offer);
        await TestNode.WaitForAsync(() => _bed.Relay.Quiet, "the relay to deliver");
        Assert.Equal(GuessSockets.Count, sockets.Opened.Count);

        // Nothing met them: closed after 10 s, all of them.
        await AdvanceAsync(GuessSockets.HoldFor - TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        Assert.Equal(GuessSockets.Count, sockets.OpenCount);
        await AdvanceAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1));
        Assert.Equal(0, sockets.OpenCount);
        Assert.Equal(0, hard.Bind.GuessSocketsOpen);
        Assert.Equal(1, hard.Bind.GuessGaveUp);
    }

    [Fact]
    public async Task A_hard_node_offered_before_the_map_names_the_peers_public_address_opens_its_sockets_when_it_does()
    {
        var sockets = new FakeGuessSockets();
        var (hard, peer) = HardSideWithEasyPeer(sockets, known: false);

        peer.SendGuess(hard, PortGuessStep.Offer);
        await TestNode.WaitForAsync(() => _bed.Relay.Quiet, "the relay to deliver");
        Assert.Empty(sockets.Opened);
        Assert.Empty(peer.Guesses);

        // The update that names it acts on the offer still standing: sockets, pings toward it, the go.
        _bed.Time.Advance(TimeSpan.FromSeconds(1.5));
        hard.Bind.SetPeers([peer.AsPeer(peer.Local)]);
        await TestNode.WaitForAsync(() => peer.Guesses.Count == 1, "the go over the relay");
        Assert.Equal(PortGuessStep.Go, peer.Guesses.Single());
        Assert.Equal(GuessSockets.Count, sockets.Opened.Count);
        Assert.All(sockets.Opened, s => Assert.Equal(peer.Local, Assert.Single(s.Sent).Destination));
    }

    [Fact]
    public async Task A_hard_node_forgets_an_offer_held_longer_than_an_offer_stands()
    {
        var sockets = new FakeGuessSockets();
        var (hard, peer) = HardSideWithEasyPeer(sockets, known: false);
        peer.SendGuess(hard, PortGuessStep.Offer);
        await TestNode.WaitForAsync(() => _bed.Relay.Quiet, "the relay to deliver");

        _bed.Time.Advance(DiscoveryBind.GuessOfferValidFor);
        hard.Bind.SetPeers([peer.AsPeer(peer.Local)]);
        await TestNode.WaitForAsync(() => _bed.Relay.Quiet, "the relay to deliver");
        Assert.Empty(sockets.Opened);
        Assert.Empty(peer.Guesses);
    }

    [Theory]
    [InlineData(false, NatMapping.Varies)]
    [InlineData(true, NatMapping.Stable)]
    [InlineData(true, NatMapping.Unknown)]
    public async Task A_node_with_port_guessing_off_or_a_mapping_that_does_not_vary_opens_no_sockets(bool guessing, NatMapping mapping)
    {
        var sockets = new FakeGuessSockets();
        var (hard, peer) = HardSideWithEasyPeer(sockets);
        hard.Bind.PortGuessing = guessing;
        hard.Bind.SetNatMapping(mapping);

        peer.SendGuess(hard, PortGuessStep.Offer);
        await TestNode.WaitForAsync(() => _bed.Relay.Quiet, "the relay to deliver");
        Assert.Empty(sockets.Opened);
        Assert.Empty(peer.Guesses);
    }

    [Fact]
    public async Task The_socket_a_probe_meets_carries_the_peers_packets_both_ways_and_the_others_close()
    {
        var sockets = new FakeGuessSockets();
        var (hard, peer) = HardSideWithEasyPeer(sockets);
        peer.SendGuess(hard, PortGuessStep.Offer);
        await TestNode.WaitForAsync(() => peer.Guesses.Count == 1, "the go over the relay");

        // The easy side's probe meets one socket: it answers through that socket, and the rest close.
        var winner = sockets.Opened.ElementAt(100);
        var probe = DiscoTxId.New();
        winner.Deliver(peer.Seal(hard, DiscoMessage.Ping(probe, peer.NodeKey)), peer.Local);
        var pong = winner.Sent.Select(s => peer.Open(s.Data)).Single(m => m.Type == DiscoMessageType.Pong);
        Assert.Equal(probe, pong.TxId);
        Assert.Equal(1, sockets.OpenCount);
        Assert.False(winner.Disposed);
        Assert.Equal(1, hard.Bind.GuessMet);

        // It pings back through that socket at once (its first ping died at the peer's NAT), and the
        // pong to that ping proves the path without waiting for the next ping round.
        var pings = winner.Sent.Select(s => peer.Open(s.Data)).Where(m => m.Type == DiscoMessageType.Ping).ToList();
        Assert.Equal(2, pings.Count);
        winner.Deliver(peer.Seal(hard, DiscoMessage.Pong(pings[1].TxId, default)), peer.Local);
        var status = hard.Bind.GetStatus(peer.NodeKey)!;
        Assert.Equal("direct", status.Path);
        Assert.Equal(peer.Local, status.DirectEndpoint);

        // WireGuard goes out through it (the main socket's mapping never reaches the peer) and comes in from it.
        hard.SendWireGuard(peer.NodeKey);
        Assert.Equal(peer.Local, Assert.Single(winner.Sent, s => DiscoveryBind.IsWireGuard(s.Data)).Destination);

        var packet = new byte[100];
        packet[0] = 4;
        winner.Deliver(packet, peer.Local);
        await TestNode.WaitForAsync(() => !hard.Received.IsEmpty, "the packet from the guess socket");
        Assert.Equal(hard.Bind.SyntheticEndpointOf(peer.NodeKey), hard.Received.Single().Source);
        Assert.Equal(1, hard.Bind.GuessReceived);
    }

    /// <summary>
    /// A peer relay that port guessing met (a guess socket carries the node's packets to it) is still
    /// asked from the main socket: the relay pairs a leg with the address a request came from, the leg's
    /// packets leave the main socket, and a grant arriving on a guess socket is refused. Asked through
    /// the guess socket, the pair stayed on the TCP relay (the lab's policy peer-relay test, 2 runs in 8 at load).
    /// </summary>
    [Fact]
    public async Task A_peer_relay_that_a_guess_socket_met_is_asked_from_the_main_socket()
    {
        var sockets = new FakeGuessSockets();
        var (hard, relay) = HardSideWithEasyPeer(sockets);
        using var other = _bed.FakePeer("10.0.0.8");
        hard.Bind.SetPeers([relay.AsPeer(relay.Local) with { PeerRelay = true }, other.AsPeer()]);
        relay.SendGuess(hard, PortGuessStep.Offer);
        await TestNode.WaitForAsync(() => relay.Guesses.Count == 1, "the go over the relay");

        var winner = sockets.Opened.ElementAt(100);
        winner.Deliver(relay.Seal(hard, DiscoMessage.Ping(DiscoTxId.New(), relay.NodeKey)), relay.Local);
        var pingBack = winner.Sent.Select(s => relay.Open(s.Data)).Last(m => m.Type == DiscoMessageType.Ping);
        winner.Deliver(relay.Seal(hard, DiscoMessage.Pong(pingBack.TxId, default)), relay.Local);
        Assert.Equal("direct", hard.Bind.GetStatus(relay.NodeKey)!.Path);

        // Traffic for the other peer, which has no path: past the punching head start, the node asks the relay for a leg.
        hard.SendWireGuard(other.NodeKey);
        await AdvanceAsync(DiscoveryBind.PeerRelayAfter + TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));
        await TestNode.WaitForAsync(
            () => relay.Received.Any(m => m.Type == DiscoMessageType.PeerRelayRequest && m.NodeKey == other.NodeKey),
            "the request on the relay's main-socket path");
        Assert.DoesNotContain(winner.Sent, s => relay.Open(s.Data).Type == DiscoMessageType.PeerRelayRequest);
    }

    /// <summary>
    /// An easy node (stable mapping) that knows a peer behind a hard NAT, which never answers (as
    /// nothing unsolicited passes the NAT): at its socket and at a public address whose port is
    /// below any guessed one, so every ping to another port of that address is a guess.
    /// </summary>
    private (TestNode Easy, RelayedPeer Peer) EasySideWithHardPeer(bool mappingVaries = false, NatMapping mapping = NatMapping.Stable)
    {
        var easy = _bed.Node("10.0.0.1");
        easy.Bind.SetNatMapping(mapping);
        var peer = new RelayedPeer(_bed, "10.0.0.9");
        var inner = _bed.Network.Tap;
        _bed.Network.Tap = (source, destination, packet) =>
        {
            inner?.Invoke(source, destination, packet);
            if (source == easy.Local && destination.Address == peer.Public.Address && destination.Port >= PortSpray.FirstPort
                && peer.TryOpen(packet, out var m) && m.Type == DiscoMessageType.Ping)
            {
                _sprayed.Enqueue((destination, _bed.Time.GetUtcNow()));
            }
        };

        easy.Bind.SetLocalEndpoints([easy.Local]);
        easy.Bind.SetPeers([peer.AsPeer(peer.Local, peer.Public) with { MappingVaries = mappingVaries }]);
        return (easy, peer);
    }

    /// <summary>A hard node (varying mapping) that knows a peer at a public address (or, not <paramref name="known"/>, the peer without an address yet).</summary>
    private (TestNode Hard, RelayedPeer Peer) HardSideWithEasyPeer(FakeGuessSockets sockets, bool known = true)
    {
        var hard = _bed.Node("10.0.0.2", sockets);
        hard.Bind.SetNatMapping(NatMapping.Varies);
        var peer = new RelayedPeer(_bed, "198.51.100.7");
        hard.Bind.SetLocalEndpoints([hard.Local]);
        hard.Bind.SetPeers([known ? peer.AsPeer(peer.Local) : peer.AsPeer()]);
        return (hard, peer);
    }

    private static TimeSpan PunchWindowLeft() => DiscoveryBind.PunchWindow - TimeSpan.FromSeconds(1);

    /// <summary>Moves the fake clock by <paramref name="duration"/> in <paramref name="step"/>s, the nodes and the relay settled after each.</summary>
    private async Task AdvanceAsync(TimeSpan duration, TimeSpan step)
    {
        for (var t = TimeSpan.Zero; t < duration; t += step)
        {
            _bed.Time.Advance(step);
            await _bed.SettledAsync();
        }
    }

    public void Dispose() => _bed.Dispose();

    /// <summary>A <see cref="FakePeer"/> on the relay too: it records the port-guessing steps it receives and sends its own.</summary>
    private sealed class RelayedPeer
    {
        private readonly FakePeer _peer;
        private readonly FakeRelayTransport _relay;
        public RelayedPeer(DiscoTestBed bed, string address)
        {
            _peer = bed.FakePeer(address);
            _relay = bed.Relay.Connect(_peer.NodeKey);
            _relay.SetReceiver((_, packet) =>
            {
                if (_peer.Sealer.TryOpen(packet, out _, out var m) && m.Type == DiscoMessageType.PortGuess)
                {
                    GuessTimes.Enqueue(bed.Time.GetUtcNow());
                    Guesses.Enqueue(m.GuessStep);
                }
            });
        }

        public Key NodeKey => _peer.NodeKey;

        public Endpoint Local => _peer.Local;

        /// <summary>Where its NAT's mapping toward the STUN server was (a port no guess picks).</summary>
        public Endpoint Public { get; } = Endpoint.FromAddressBytes([198, 51, 100, 9], 1);

        public ConcurrentQueue<PortGuessStep> Guesses { get; } = new();

        public ConcurrentQueue<DateTimeOffset> GuessTimes { get; } = new();

        public DiscoPeer AsPeer(params Endpoint[] endpoints) => _peer.AsPeer(endpoints);

        public void SendGuess(TestNode to, PortGuessStep step) => _relay.TrySend(to.NodeKey, Seal(to, DiscoMessage.PortGuess(step)));

        public Task RoundTripAsync(TestNode to) => _peer.RoundTripAsync(to);

        /// <summary>The disco messages that reached its socket directly.</summary>
        public ConcurrentQueue<DiscoMessage> Received => _peer.Received;

        /// <summary>Answers every ping that reached its socket with a pong from there, then waits until the node handled them.</summary>
        public async Task AnswerPingsAsync(TestNode to)
        {
            foreach (var ping in _peer.Received.Where(m => m.Type == DiscoMessageType.Ping))
            {
                _peer.SendDisco(to, DiscoMessage.Pong(ping.TxId, to.Local));
            }

            await _peer.RoundTripAsync(to);
        }

        public byte[] Seal(TestNode to, in DiscoMessage message)
        {
            var buffer = new byte[DiscoCodec.MaxPacketSize];
            var n = _peer.Sealer.Seal(to.Bind.DiscoPublicKey, message, buffer);
            return buffer[..n];
        }

        public bool TryOpen(ReadOnlySpan<byte> packet, out DiscoMessage message) => _peer.Sealer.TryOpen(packet, out _, out message);

        public DiscoMessage Open(byte[] packet) => TryOpen(packet, out var m) ? m : throw new InvalidOperationException("not sealed for the peer");
    }
}
