using System.Collections.Concurrent;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery;

/// <summary>
/// Port guessing, for a pair that punching left on the relay because one side's NAT maps per
/// destination ("hard", H) and the other's does not ("easy", E). H's port toward E is random, so
/// E's pings cannot name it, and E's NAT drops whatever H sends until E has sent to that port.
/// The birthday approach: offer (E over the relay: "my mapping is stable") -> H opens
/// <see cref="GuessSockets.Count"/> sockets and pings E's public endpoint from each, so its NAT
/// holds that many mappings toward E -> go (H over the relay) -> E pings random ports of H's
/// public address, <see cref="PortSpray.Budget"/> at most at <see cref="PortSpray.PerSecond"/>, until
/// one meets a mapping (a 98% chance) and the sealed pong proves the path. The socket that met
/// carries the peer's packets from then on; the others close.
/// When the map says the peer's mapping varies, E offers at once, alongside the first round of
/// punching, and on every event that can make an offer due (a map update, this node's own verdict)
/// rather than on its next tick: the go comes back a relay round trip and H's socket opening later,
/// by which time a path that needs no guessing (IPv6, a shared LAN, a port mapping) has had its
/// pong, and a go that finds a direct path starts nothing. An offer H cannot act on yet (the map has
/// not named E's public address) waits for the map update that does, as long as the offer stands.
/// Bound: only when this node's mapping (<see cref="SetNatMapping"/>) fits its role, only when no
/// direct path holds <see cref="GuessOfferAfter"/> into a punch window (at once when the map says
/// the peer's mapping varies), at most
/// <see cref="MaxAttemptsPerWindow"/> attempts per window <see cref="GuessRetryAfter"/> apart (H
/// takes one per <see cref="GuessSockets.HoldFor"/> and peer), one waiting socket set and
/// <see cref="MaxSprays"/> sprays at once. Per attempt E sends one offer and at most 1000 pings
/// (2.5 s at 400/s, given up after 5 s); H opens 256 sockets for at most 10 s and sends 256 pings
/// per target (at most <see cref="MaxTargets"/>) and one go. <see cref="PortGuessing"/> turns it off.
/// </summary>
public sealed partial class DiscoveryBind
{
    /// <summary>Rounds of punching first: an easy pair or a public peer goes direct within a few seconds.</summary>
    internal static readonly TimeSpan GuessOfferAfter = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Attempts per punch window: one meets with a probability of 98%, two with 99.96%. Another
    /// window opens only on a new cause (the peer back, new candidates, a lost path).
    /// </summary>
    internal const int MaxAttemptsPerWindow = 2;

    /// <summary>Between two offers to one peer: after the first attempt's spray and sockets are over.</summary>
    internal static readonly TimeSpan GuessRetryAfter = TimeSpan.FromSeconds(12);

    /// <summary>How long an offer stands: a go after that starts nothing.</summary>
    internal static readonly TimeSpan GuessOfferValidFor = TimeSpan.FromSeconds(30);

    /// <summary>The spray's pace: a step every 100 ms, each a tenth of a second's probes.</summary>
    internal const int GuessStepsPerSecond = 10;

    /// <summary>Public IPv4 addresses (sprayed) or endpoints (pinged from each socket) of one peer.</summary>
    internal const int MaxTargets = 2;

    internal const int MaxSprays = 2;

    // Written by SetNatMapping and PortGuessing, read anywhere.
    private volatile int _natMapping;
    private volatile bool _portGuessing;

    // Where a guess socket carries a peer's packets: the peer's endpoint it met -> the winning socket.
    private readonly ConcurrentDictionary<Endpoint, IGuessSocket> _sideByEndpoint = new();

    // Guarded by _guessLock: the spray timer and its random ports; starting a spray or a socket set.
    private readonly object _guessLock = new();
    private readonly Random _guessRandom = new();
    private ITimer? _guessTimer;
    private bool _guessTimerArmed;

    private long _guessOffers;
    private long _guessProbes;
    private long _guessSocketsOpened;
    private long _guessGaveUp;
    private long _guessMet;
    private long _guessReceived;

    /// <summary>Whether this node guesses ports (on by default; see the class summary). Off stops sprays and closes waiting sockets at once.</summary>
    public bool PortGuessing
    {
        get => _portGuessing;
        set
        {
            _portGuessing = value;
            if (!value)
            {
                foreach (var peer in _table.ByNodeKey.Values)
                {
                    StopGuessing(peer, keepWinner: true);
                }
            }
        }
    }

    /// <summary>This node's NAT mapping as STUN found it; decides which half of port guessing it may do.</summary>
    public NatMapping NatMapping => (NatMapping)_natMapping;

    /// <summary>Sets this node's verdict; a stable one makes offers to peers already known to be hard due at once.</summary>
    public void SetNatMapping(NatMapping mapping)
    {
        if (Interlocked.Exchange(ref _natMapping, (int)mapping) != (int)mapping && mapping == NatMapping.Stable)
        {
            OfferGuessesDue();
        }
    }

    /// <summary>Offers sent (this node easy, a peer still on the relay).</summary>
    public long GuessOffers => Interlocked.Read(ref _guessOffers);

    /// <summary>Pings sent to guessed ports.</summary>
    public long GuessProbes => Interlocked.Read(ref _guessProbes);

    /// <summary>Guess sockets opened (this node hard).</summary>
    public long GuessSocketsOpened => Interlocked.Read(ref _guessSocketsOpened);

    /// <summary>Attempts that ended without a meeting (budget spent, time up, sockets closed unmet).</summary>
    public long GuessGaveUp => Interlocked.Read(ref _guessGaveUp);

    /// <summary>Guess sockets a peer's probe met.</summary>
    public long GuessMet => Interlocked.Read(ref _guessMet);

    /// <summary>WireGuard packets that arrived on a guess socket.</summary>
    public long GuessReceived => Interlocked.Read(ref _guessReceived);

    /// <summary>Guess sockets open now (waiting or winners).</summary>
    public int GuessSocketsOpen => _table.ByNodeKey.Values.Sum(p => p.Sockets?.OpenCount ?? 0);

    private void InitGuessing() => _portGuessing = _options.PortGuessing;

    /// <summary>From OnTick: an easy node offers to a peer punching has not reached; waiting sockets that met nothing close.</summary>
    private void GuessTick(PeerState peer, long now)
    {
        if (peer.Sockets is { } sockets && sockets.CloseIfUnmet(now, Ticks(GuessSockets.HoldFor)))
        {
            Interlocked.Increment(ref _guessGaveUp);
            LogGuessSocketsUnmet(peer.NodeKey.ToString(), sockets.Opened);
        }

        OfferGuessIfDue(peer, now);
    }

    /// <summary>After an event that can make an offer due (a map update, our verdict): every peer's offer now, not at the next tick.</summary>
    private void OfferGuessesDue()
    {
        if (_closed)
        {
            return;
        }

        var now = _time.GetTimestamp();
        foreach (var peer in _table.ByNodeKey.Values)
        {
            OfferGuessIfDue(peer, now);
        }
    }

    private void OfferGuessIfDue(PeerState peer, long now)
    {
        Key disco;
        lock (peer.Sync)
        {
            if (!GuessOfferDueLocked(peer, now))
            {
                return;
            }

            if (peer.GuessWindow != peer.PunchSince)
            {
                peer.GuessWindow = peer.PunchSince;
                peer.GuessAttempts = 0;
            }

            peer.GuessAttempts++;
            peer.GuessOfferedAt = now;
            peer.GuessAnswered = false;
            disco = peer.DiscoKey;
        }

        Interlocked.Increment(ref _guessOffers);
        SendDisco(disco, peer, null, DiscoMessage.PortGuess(PortGuessStep.Offer));
    }

    private bool GuessOfferDueLocked(PeerState peer, long now) =>
        _portGuessing && NatMapping == NatMapping.Stable && !peer.DiscoOff
        && peer.PunchSince != 0 && peer.LastPong < peer.PunchSince
        && (peer.MappingVaries || now - peer.PunchSince >= Ticks(GuessOfferAfter)) && now - peer.PunchSince < Ticks(PunchWindow)
        && !HasTrustedDirect(peer, now)
        && (peer.GuessWindow != peer.PunchSince || peer.GuessAttempts < MaxAttemptsPerWindow)
        && (peer.GuessOfferedAt == 0 || now - peer.GuessOfferedAt >= Ticks(GuessRetryAfter))
        && peer.Spray is null
        && PublicIPv4CandidatesLocked(peer).Count > 0;

    private void OnPortGuess(PeerState peer, Key sender, in DiscoMessage message)
    {
        if (message.GuessStep == PortGuessStep.Offer)
        {
            OnGuessOffer(peer, sender);
        }
        else
        {
            OnGuessGo(peer, sender);
        }
    }

    /// <summary>The hard side: opens the sockets, pings the easy side's public endpoints from each, then says go.</summary>
    private void OnGuessOffer(PeerState peer, Key sender)
    {
        var now = _time.GetTimestamp();
        if (_options.GuessSockets is not { } factory || !_portGuessing || NatMapping != NatMapping.Varies)
        {
            return;
        }

        List<Endpoint> targets;
        GuessSockets session;
        GuessSockets? previous;
        Key disco;
        lock (_guessLock)
        {
            if (_table.ByNodeKey.Values.Any(p => p != peer && p.Sockets is { Closed: false, Winner: null }))
            {
                return; // one set of 256 sockets at a time
            }

            lock (peer.Sync)
            {
                if (peer.DiscoKey != sender || peer.DiscoOff || HasTrustedDirect(peer, now)
                    || (peer.LastGuessAt != 0 && now - peer.LastGuessAt < Ticks(GuessSockets.HoldFor)))
                {
                    return;
                }

                targets = PublicIPv4CandidatesLocked(peer);
                if (targets.Count == 0)
                {
                    // The peer's report reached it before it reached us: act when the map names its address.
                    peer.GuessOfferHeldAt = now;
                    peer.GuessOfferHeldFrom = sender;
                    return;
                }

                peer.GuessOfferHeldAt = 0;
                peer.LastGuessAt = now;
                previous = peer.Sockets;
                session = new GuessSockets(peer, now);
                peer.Sockets = session;
                disco = peer.DiscoKey;
            }
        }

        CloseSockets(previous);
        GuessDatagramHandler handler = (socket, datagram, source) => OnGuessDatagram(session, socket, datagram, source);
        for (var i = 0; i < GuessSockets.Count && !_closed; i++)
        {
            if (factory.Open(handler) is not { } socket || !session.Add(socket))
            {
                break;
            }

            Interlocked.Increment(ref _guessSocketsOpened);
            foreach (var target in targets)
            {
                SendPingVia(socket, peer, disco, target, now);
            }
        }

        LogGuessSocketsOpened(peer.NodeKey.ToString(), session.Opened, string.Join(", ", targets));
        SendDisco(disco, peer, null, DiscoMessage.PortGuess(PortGuessStep.Go));
    }

    /// <summary>After a map update: the offers held for want of the peer's public address, now that the map may name it.</summary>
    private void ActOnHeldGuessOffers()
    {
        if (_closed)
        {
            return;
        }

        var now = _time.GetTimestamp();
        foreach (var peer in _table.ByNodeKey.Values)
        {
            Key sender;
            lock (peer.Sync)
            {
                if (peer.GuessOfferHeldAt == 0)
                {
                    continue;
                }

                if (now - peer.GuessOfferHeldAt >= Ticks(GuessOfferValidFor))
                {
                    peer.GuessOfferHeldAt = 0;
                    continue;
                }

                if (PublicIPv4CandidatesLocked(peer).Count == 0)
                {
                    continue;
                }

                sender = peer.GuessOfferHeldFrom;
            }

            OnGuessOffer(peer, sender);
        }
    }

    /// <summary>The easy side: the peer's sockets are open; spray its public addresses (only after our own offer).</summary>
    private void OnGuessGo(PeerState peer, Key sender)
    {
        var now = _time.GetTimestamp();
        if (!_portGuessing || NatMapping != NatMapping.Stable)
        {
            return;
        }

        List<UInt128> addresses;
        lock (_guessLock)
        {
            if (_table.ByNodeKey.Values.Count(p => p.Spray is not null) >= MaxSprays)
            {
                return;
            }

            lock (peer.Sync)
            {
                if (peer.DiscoKey != sender || peer.DiscoOff || peer.Spray is not null || peer.GuessAnswered
                    || peer.GuessOfferedAt == 0 || now - peer.GuessOfferedAt > Ticks(GuessOfferValidFor) || HasTrustedDirect(peer, now))
                {
                    return;
                }

                addresses = [.. PublicIPv4CandidatesLocked(peer).Select(e => e.Address).Distinct().Take(MaxTargets)];
                if (addresses.Count == 0)
                {
                    return;
                }

                peer.GuessAnswered = true;
                peer.Spray = new PortSpray(addresses, now, _time.TimestampFrequency);
            }

            if (!_guessTimerArmed && _guessTimer is { } timer)
            {
                _guessTimerArmed = true;
                var step = TimeSpan.FromSeconds(1.0 / GuessStepsPerSecond);
                timer.Change(step, step);
            }
        }

        LogGuessSpray(peer.NodeKey.ToString(), PortSpray.Budget, PortSpray.PerSecond);
        OnGuessStep();
    }

    /// <summary>Every 100 ms while a spray runs: each spraying peer's due probes; a spray ends at a direct path, its budget or its time.</summary>
    private void OnGuessStep()
    {
        try
        {
            var plan = new List<Endpoint>();
            lock (_guessLock)
            {
                var now = _time.GetTimestamp();
                var active = 0;
                foreach (var peer in _table.ByNodeKey.Values)
                {
                    Key disco;
                    plan.Clear();
                    lock (peer.Sync)
                    {
                        if (peer.Spray is not { } spray)
                        {
                            continue;
                        }

                        var met = HasTrustedDirect(peer, now);
                        if (met || !_portGuessing || peer.DiscoOff || spray.Done(now))
                        {
                            peer.Spray = null;
                            if (!met)
                            {
                                Interlocked.Increment(ref _guessGaveUp);
                                LogGuessSprayGaveUp(peer.NodeKey.ToString(), spray.Sent);
                            }

                            continue;
                        }

                        active++;
                        disco = peer.DiscoKey;
                        spray.TakeDue(now, _guessRandom, plan);
                    }

                    foreach (var e in plan)
                    {
                        SendPing(peer, disco, e, now, null);
                    }

                    Interlocked.Add(ref _guessProbes, plan.Count);
                }

                if (active == 0 && _guessTimerArmed)
                {
                    _guessTimerArmed = false;
                    _guessTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            LogTickFailed(e);
        }
    }

    /// <summary>A datagram on a guess socket: disco from the peer it was opened for adopts it; WireGuard only on the winner.</summary>
    private void OnGuessDatagram(GuessSockets session, IGuessSocket socket, ReadOnlySpan<byte> datagram, Endpoint source)
    {
        if (_closed || session.Closed)
        {
            return;
        }

        if (DiscoCodec.IsDisco(datagram))
        {
            HandleDisco(datagram, source, viaRelay: false, default, (session, socket));
        }
        else if (IsWireGuard(datagram) && session.Winner == socket && _sideByEndpoint.TryGetValue(source, out var side) && side == socket)
        {
            if (QueueForReceiver(session.Peer, datagram))
            {
                Interlocked.Increment(ref _guessReceived);
            }
            else
            {
                Interlocked.Increment(ref _relayDropped);
            }
        }
        else
        {
            Interlocked.Increment(ref _unknownDropped);
        }
    }

    /// <summary>A sealed message from the peer on a guess socket: that socket wins and carries what goes to <paramref name="source"/>.</summary>
    /// <param name="first">Whether this is the meeting: no socket of the session had won before.</param>
    private bool AdoptGuessSocket(GuessSockets session, IGuessSocket socket, PeerState peer, in Endpoint source, out bool first)
    {
        first = false;
        if (peer != session.Peer || RefusedAsTunnel(source))
        {
            return false;
        }

        first = session.Winner is null;
        if (!session.Adopt(socket))
        {
            first = false;
            return false;
        }

        _sideByEndpoint[source] = socket;
        if (first)
        {
            Interlocked.Increment(ref _guessMet);
            LogGuessMet(peer.NodeKey.ToString(), source.ToString(), session.Opened);
        }

        return true;
    }

    private void SendPingVia(IGuessSocket socket, PeerState peer, Key disco, in Endpoint to, long now)
    {
        var tx = DiscoTxId.New();
        _pending[tx] = new PendingPing(peer, to, false, now, null);
        lock (_discoLock)
        {
            var b = _discoBatch[0];
            var n = _sealer.Seal(disco, DiscoMessage.Ping(tx, _options.NodePublicKey), b.Data);
            socket.Send(to, b.Data.Slice(0, n));
        }
    }

    /// <summary>Ends the peer's spray and closes its waiting sockets (the winner too unless <paramref name="keepWinner"/>).</summary>
    private void StopGuessing(PeerState peer, bool keepWinner)
    {
        GuessSockets? sockets;
        lock (peer.Sync)
        {
            peer.Spray = null;
            sockets = peer.Sockets;
            if (sockets is not null && (!keepWinner || sockets.Winner is null))
            {
                peer.Sockets = null;
            }
            else
            {
                sockets = null;
            }
        }

        CloseSockets(sockets);
    }

    private void CloseSockets(GuessSockets? sockets)
    {
        if (sockets is null)
        {
            return;
        }

        var winner = sockets.Winner;
        sockets.Close();
        if (winner is not null)
        {
            foreach (var (e, s) in _sideByEndpoint)
            {
                if (s == winner)
                {
                    _sideByEndpoint.TryRemove(KeyValuePair.Create(e, s));
                }
            }
        }
    }

    private static bool HasTrustedDirect(PeerState peer, long now) => peer.Direct is { } d && now < d.TrustedUntil;

    /// <summary>The peer's candidates on public IPv4 addresses, at most <see cref="MaxTargets"/> (peer.Sync held).</summary>
    private static List<Endpoint> PublicIPv4CandidatesLocked(PeerState peer) =>
        [.. peer.Paths.Keys.Where(IsPublicIPv4).Take(MaxTargets)];

    /// <summary>An IPv4 address a NAT could present to the internet: none of the private, shared, loopback, link-local or multicast ranges.</summary>
    internal static bool IsPublicIPv4(Endpoint e)
    {
        if (!e.IsIPv4)
        {
            return false;
        }

        var a = (uint)e.Address;
        return (a >> 24) is not (0 or 10 or 127) && (a >> 28) < 0xE
            && (a & 0xFFC0_0000) != 0x6440_0000 // 100.64.0.0/10
            && (a & 0xFFFF_0000) != 0xA9FE_0000 // 169.254.0.0/16
            && (a & 0xFFF0_0000) != 0xAC10_0000 // 172.16.0.0/12
            && (a & 0xFFFF_0000) != 0xC0A8_0000; // 192.168.0.0/16
    }
}
