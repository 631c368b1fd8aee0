using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Core.Control;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery;

/// <summary>
/// Discovery: answering pings, proving paths with pongs, hole punching (ping every candidate
/// directly while a CallMeMaybe over the relay makes the peer ping us back at the same moment),
/// heartbeats, and the choice of path.
/// </summary>
public sealed partial class DiscoveryBind
{
    private long _callMeMaybeLimited;

    /// <summary>Call-me-maybes dropped because their peer sent more than <see cref="CallMeMaybeBurst"/> at once, then one per <see cref="CallMeMaybeEvery"/>.</summary>
    public long CallMeMaybeLimited => Interlocked.Read(ref _callMeMaybeLimited);

    /// <param name="side">The guess socket it arrived on, if not the main socket or the relay.</param>
    /// <param name="legPeer">The peer whose peer relay leg it came through, if it did.</param>
    /// <param name="local">Our address it was sent to, on the main socket.</param>
    private void HandleDisco(
        ReadOnlySpan<byte> packet,
        Endpoint source,
        bool viaRelay,
        Key relaySource,
        (GuessSockets Session, IGuessSocket Socket)? side = null,
        PeerState? legPeer = null,
        LocalAddress local = default)
    {
        try
        {
            if (!_sealer.TryOpen(packet, out var sender, out var message))
            {
                DropDisco("malformed or not sealed for us");
                return;
            }

            if (!_table.ByDiscoKey.TryGetValue(sender, out var peer) || (viaRelay && peer.NodeKey != relaySource))
            {
                DropDisco("unknown disco key");
                return;
            }

            if (legPeer is not null && (peer != legPeer || message.Type is not (DiscoMessageType.Ping or DiscoMessageType.Pong)))
            {
                DropDisco("through a peer relay leg of another peer, or not a ping or pong");
                return;
            }

            var direct = !viaRelay && side is null && legPeer is null;
            if (message.Type is DiscoMessageType.PeerRelayRequest or DiscoMessageType.PeerRelayGrant && !direct)
            {
                DropDisco("a peer relay request or grant not sent directly");
                return;
            }

            var met = false;
            if (side is var (session, socket) && !AdoptGuessSocket(session, socket, peer, source, out met))
            {
                DropDisco("on a guess socket opened for another peer");
                return;
            }

            Interlocked.Increment(ref _discoReceived);
            switch (message.Type)
            {
                case DiscoMessageType.Ping when legPeer is not null:
                    OnPingViaLeg(peer, sender, message);
                    break;
                case DiscoMessageType.Ping:
                    OnPing(peer, sender, message, source, viaRelay, local, met, onMainSocket: side is null);
                    break;
                case DiscoMessageType.Pong:
                    OnPong(peer, sender, message, local);
                    break;
                case DiscoMessageType.CallMeMaybe:
                    OnCallMeMaybe(peer, sender, message);
                    break;
                case DiscoMessageType.PortGuess:
                    OnPortGuess(peer, sender, message);
                    break;
                case DiscoMessageType.PeerRelayRequest:
                    OnPeerRelayRequest(peer, message, source);
                    break;
                case DiscoMessageType.PeerRelayGrant:
                    OnPeerRelayGrant(peer, message, source);
                    break;
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            DropDisco(e.Message);
        }
    }

    private void DropDisco(string reason)
    {
        Interlocked.Increment(ref _discoDropped);
        LogDiscoDropped(reason);
    }

    /// <param name="met">The ping just met one of our guess sockets: ping back through it at once, since our
    /// earlier pings from that socket died at the peer's NAT and the next ping round is seconds away.</param>
    /// <param name="onMainSocket">It came to the main socket: answered from there even if a guess socket also met
    /// <paramref name="source"/>, so the peer proves the address it pinged (a held peer relay request waits for that one).</param>
    private void OnPing(PeerState peer, Key sender, in DiscoMessage ping, Endpoint source, bool viaRelay, LocalAddress local, bool met = false, bool onMainSocket = false)
    {
        if (ping.NodeKey != peer.NodeKey)
        {
            DropDisco("ping names another node key");
            return;
        }

        if (!viaRelay && RefusedAsTunnel(source))
        {
            // It came through our own tunnel (a peer pinging an address we route into it): answering
            // would prove a path that wraps every packet into the tunnel again.
            DropDisco("ping from inside the tunnel");
            return;
        }

        var now = _time.GetTimestamp();
        Key disco;
        var pingBack = false;
        lock (peer.Sync)
        {
            if (peer.DiscoKey != sender)
            {
                return; // the peer's disco key changed while this message was on its way
            }

            disco = peer.DiscoKey;
            if (!viaRelay && AddPathLocked(peer, source, fromMap: false) is { } path)
            {
                _byEndpoint[source] = peer;
                path.Local = local;

                // The peer reached us from there: ping back so the path is proven for our side too.
                pingBack = now - path.LastPong > _trustTicks && (met || now - path.LastPingSent > Ticks(PingBackAfter));
                if (pingBack)
                {
                    path.LastPingSent = now;
                }
            }
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            LogPingReceived(peer.NodeKey.ToString(), viaRelay ? "the relay" : source.ToString());
        }

        // The pong leaves from the address the ping came to, so the peer meets us where it looked.
        SendDisco(disco, peer, viaRelay ? null : source, DiscoMessage.Pong(ping.TxId, viaRelay ? default : source), local, onMainSocket);
        if (pingBack)
        {
            SendPing(peer, disco, source, now, null, mainSocket: onMainSocket);
        }
    }

    /// <summary>A ping through a peer relay: answered through our leg toward the peer (its source is the relay, never a path).</summary>
    private void OnPingViaLeg(PeerState peer, Key sender, in DiscoMessage ping)
    {
        if (ping.NodeKey != peer.NodeKey)
        {
            DropDisco("ping names another node key");
            return;
        }

        Key disco;
        PeerRelayLeg? leg;
        lock (peer.Sync)
        {
            if (peer.DiscoKey != sender)
            {
                return;
            }

            disco = peer.DiscoKey;
            leg = peer.Leg;
        }

        if (leg is not null)
        {
            SendDiscoViaLeg(disco, leg, DiscoMessage.Pong(ping.TxId, default));
        }
    }

    private void OnPong(PeerState peer, Key sender, in DiscoMessage pong, LocalAddress local)
    {
        if (!_pending.TryRemove(pong.TxId, out var pending) || pending.Peer != peer)
        {
            DropDisco("pong for no ping of ours");
            return;
        }

        var now = _time.GetTimestamp();
        var rtt = _time.GetElapsedTime(pending.SentAt, now);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            LogPongReceived(peer.NodeKey.ToString(), pending.ViaRelay ? "the relay" : pending.Endpoint.ToString(), rtt.TotalMilliseconds);
        }

        var provedPath = false;
        lock (peer.Sync)
        {
            if (peer.DiscoKey != sender)
            {
                return; // an answer from the node's previous life proves nothing about this one
            }

            if (pending.ViaRelay)
            {
                peer.RelayLatency = rtt;
            }
            else if (pending.Leg is { } leg)
            {
                ProveLegLocked(peer, leg, now, rtt);
            }
            else if (AddPathLocked(peer, pending.Endpoint, fromMap: false) is { } path)
            {
                var newlyProven = now - path.LastPong >= _trustTicks;
                path.LastPong = now;
                path.Local = local;
                path.Latency = rtt;
                path.Rtts.Add(rtt);
                peer.LastPong = now;
                NoteObserved(pong.Observed);
                _byEndpoint[pending.Endpoint] = peer;
                var before = peer.Direct?.Endpoint;
                ChoosePathLocked(peer, now);
                if (peer.Direct is { } direct && (direct.Endpoint == pending.Endpoint || direct.Endpoint != before))
                {
                    // The direct path answered (or is another one now): nothing on it is overdue.
                    peer.DirectPingSince = 0;
                }
                else if (newlyProven && path.Rtts.Count < PathChooser.MinSamples && !peer.Reprobe.Active)
                {
                    // A path that just opened beside the chosen one, with too few pongs to be judged
                    // (IPv4 needs several to beat IPv6): its next pongs come within seconds, not at
                    // the next heartbeat after its trust lapses, one pong every 9 s.
                    ArmReprobeLocked(peer, now);
                }

                provedPath = true;
            }
        }

        if (provedPath)
        {
            // What waited for this very proof goes now: a request held as a peer relay, our requests to one.
            ServeHeldPeerRelayRequest(peer, pending.Endpoint, now);
            AskPeerRelaysAwaiting(peer, now);
        }

        pending.Waiter?.TrySetResult(
            pending.ViaRelay ? new PingResult(PathKind.Relay, null, RelayingRegion(peer) ?? RelayRegionOf(peer), rtt)
            : pending.Leg is { } via ? new PingResult(PathKind.PeerRelay, pending.Endpoint, 0, rtt, via.Relay)
            : new PingResult(PathKind.Direct, pending.Endpoint, 0, rtt));
    }

    private void OnCallMeMaybe(PeerState peer, Key sender, in DiscoMessage message)
    {
        var now = _time.GetTimestamp();
        var plan = new List<(Endpoint, DiscoTxId)>();
        Key disco;
        lock (peer.Sync)
        {
            if (peer.DiscoKey != sender)
            {
                return;
            }

            if (!peer.CallMeMaybeBudget.TryTake(now, _callMeMaybeTicks, CallMeMaybeBurst))
            {
                // A flood of valid call-me-maybes would otherwise make us ping up to 32 endpoints each.
                Interlocked.Increment(ref _callMeMaybeLimited);
                return;
            }

            disco = peer.DiscoKey;
            var fresh = false;
            foreach (var e in message.Endpoints)
            {
                var known = peer.Paths.ContainsKey(e);
                fresh |= AddPathLocked(peer, e, fromMap: false) is not null && !known;
            }

            peer.PlanPingsLocked(message.Endpoints, now, plan);
            if (fresh)
            {
                // A candidate we did not know: one round may meet a NAT mapping not open yet.
                ArmReprobeLocked(peer, now);
                OpenPunchWindowLocked(peer, now);
            }
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            LogCallMeMaybeReceived(peer.NodeKey.ToString(), string.Join(", ", message.Endpoints));
        }

        foreach (var (e, tx) in plan)
        {
            SendPing(peer, disco, e, now, null, tx);
        }
    }

    private void ChoosePathLocked(PeerState peer, long now)
    {
        Span<PathCandidate> candidates = stackalloc PathCandidate[PeerState.MaxPaths];
        var n = 0;
        foreach (var (e, path) in peer.Paths)
        {
            if (path.LastPong != 0 && now - path.LastPong < _trustTicks)
            {
                candidates[n++] = new PathCandidate(e, path.Rtts.Min, path.Rtts.Count);
            }
        }

        var current = peer.Direct;
        Endpoint? currentEndpoint = current is not null && now < current.TrustedUntil ? current.Endpoint : null;
        if (PathChooser.Choose(currentEndpoint, candidates[..n]) is not { } choice)
        {
            return;
        }

        var chosen = peer.Paths[choice.Endpoint];
        peer.Direct = new DirectPath(choice.Endpoint, chosen.LastPong + _trustTicks, chosen.Latency, _sideByEndpoint.GetValueOrDefault(choice.Endpoint), chosen.Local);
        if (currentEndpoint != choice.Endpoint)
        {
            LogPathChanged(peer.NodeKey.ToString(), choice.Endpoint.ToString(), choice.Latency.TotalMilliseconds);

            // The other candidates have had a pong or two at most: probe them all again promptly.
            ArmReprobeLocked(peer, now);
        }
    }

    /// <summary>
    /// A full round pings every candidate directly and sends our candidates over the relay
    /// (CallMeMaybe) so the peer pings us at the same moment; a heartbeat pings only the chosen path.
    /// <paramref name="reprobe"/> (a peer coming up) arms the prompt re-probe after it.
    /// </summary>
    private void StartRound(PeerState peer, bool full, bool reprobe = false)
    {
        var now = _time.GetTimestamp();
        var plan = new List<(Endpoint, DiscoTxId)>();
        Key disco;
        lock (peer.Sync)
        {
            if (peer.DiscoOff)
            {
                return;
            }

            disco = peer.DiscoKey;
            peer.LastRound = now;
            if (!full && peer.Direct is { } direct)
            {
                peer.PlanPingsLocked([direct.Endpoint], now, plan);
                peer.PlanUnprovenIPv6Locked(direct, now, _trustTicks, plan);
                if (CouldBeBeatenLocked(peer, direct))
                {
                    peer.PlanUnprovenLocked(direct, now, _trustTicks, plan);
                }
            }
            else
            {
                full = true;
                peer.LastFullRound = now;
                peer.PlanPingsLocked(peer.Paths.Keys, now, plan);
            }

            if (reprobe)
            {
                ArmReprobeLocked(peer, now);
                OpenPunchWindowLocked(peer, now);
            }
        }

        foreach (var (e, tx) in plan)
        {
            SendPing(peer, disco, e, now, null, tx);
        }

        var ours = full ? CallMeMaybeEndpoints() : [];
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            LogRound(peer.NodeKey.ToString(), full ? "full" : "heartbeat", string.Join(", ", plan.Select(p => p.Item1)), string.Join(", ", ours));
        }

        if (ours.Length > 0)
        {
            SendDisco(disco, peer, null, DiscoMessage.CallMeMaybe(ours));
        }
    }

    /// <summary>
    /// The chosen path is slower than a LAN (its least round trip): another candidate could beat it by
    /// the chooser's margins (a fifth and a millisecond within a family, more across), so the
    /// candidates not proven now are worth a ping each heartbeat (peer.Sync held).
    /// </summary>
    private static bool CouldBeBeatenLocked(PeerState peer, DirectPath direct) =>
        peer.Paths.TryGetValue(direct.Endpoint, out var path) && path.Rtts.Min > LanLatency;

    /// <summary>On IPv4 while the peer has an IPv6 candidate: worth the periodic re-probe even on a fast path.</summary>
    private static bool OnIPv4BesideIPv6Locked(PeerState peer, DirectPath direct)
    {
        if (!direct.Endpoint.IsIPv4)
        {
            return false;
        }

        foreach (var e in peer.Paths.Keys)
        {
            if (!e.IsIPv4)
            {
                return true;
            }
        }

        return false;
    }

    private void SendPing(PeerState peer, Key disco, Endpoint? to, long now, TaskCompletionSource<PingResult>? waiter, DiscoTxId? txId = null, bool mainSocket = false)
    {
        var tx = txId ?? DiscoTxId.New();
        _pending[tx] = new PendingPing(peer, to ?? default, to is null, now, waiter);
        SendDisco(disco, peer, to, DiscoMessage.Ping(tx, _options.NodePublicKey), mainSocket: mainSocket);
    }

    /// <summary>
    /// Seals and sends one message, directly to <paramref name="to"/> or (null) over the relay. Directly,
    /// it leaves from the guess socket that met <paramref name="to"/>, if one did, unless
    /// <paramref name="mainSocket"/>: peer relay requests and grants, since a leg's packets travel on
    /// the main socket and the relay pairs a leg with the address the request came from.
    /// </summary>
    private void SendDisco(Key disco, PeerState peer, Endpoint? to, in DiscoMessage message, LocalAddress from = default, bool mainSocket = false)
    {
        lock (_discoLock)
        {
            var b = _discoBatch[0];
            var n = _sealer.Seal(disco, message, b.Data);
            if (to is { } endpoint)
            {
                if (!mainSocket && _sideByEndpoint.TryGetValue(endpoint, out var side))
                {
                    side.Send(endpoint, b.Data.Slice(0, n));
                    return;
                }

                b.Offset = 0;
                b.Length = n;
                b.Endpoint = endpoint;
                b.Local = from;
                _inner.Send(_discoBatch);
            }
            else if (_relay is not { } relay || !relay.TrySend(peer.NodeKey, b.Data.Slice(0, n)))
            {
                Interlocked.Increment(ref _relaySendDrops);
            }
        }
    }

    /// <summary>
    /// Every second: heartbeats for active peers, full rounds where no direct path holds (for idle
    /// peers only inside their punch window), stale pings forgotten.
    /// </summary>
    private void OnTick()
    {
        try
        {
            var now = _time.GetTimestamp();
            var v6Probes = new List<(Endpoint, DiscoTxId)>();
            foreach (var peer in _table.ByNodeKey.Values)
            {
                GuessTick(peer, now);
                if (now - peer.LastActive > _idleTicks)
                {
                    bool punch;
                    lock (peer.Sync)
                    {
                        punch = PunchDueLocked(peer, now);
                    }

                    if (punch)
                    {
                        Interlocked.Increment(ref _punchRounds);
                        StartRound(peer, full: true);
                    }

                    continue;
                }

                bool due, full;
                Key disco;
                v6Probes.Clear();
                lock (peer.Sync)
                {
                    disco = peer.DiscoKey;
                    var direct = peer.Direct;
                    NoteLostPathLocked(peer, direct, now);
                    // On the relay every round is full, so an active peer punches every 3 s already.
                    due = now - peer.LastRound >= Ticks(HeartbeatEvery);
                    if (!due && direct is not null && now < direct.TrustedUntil && !peer.DiscoOff)
                    {
                        // Between heartbeats on IPv4: the unproven IPv6 candidates, every second.
                        peer.PlanUnprovenIPv6Locked(direct, now, _trustTicks, v6Probes);
                    }

                    full = direct is null || now >= direct.TrustedUntil
                        || (now - peer.LastFullRound >= Ticks(ReprobeEvery) && (direct.Latency > LanLatency || OnIPv4BesideIPv6Locked(peer, direct)));
                }

                foreach (var (e, tx) in v6Probes)
                {
                    SendPing(peer, disco, e, now, null, tx);
                }

                if (due)
                {
                    StartRound(peer, full);
                }

                PeerRelayTick(peer, now);
            }

            var forget = Ticks(PingForgetAfter);
            foreach (var (tx, pending) in _pending)
            {
                if (pending.Waiter is null && now - pending.SentAt > forget)
                {
                    _pending.TryRemove(tx, out _);
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            LogTickFailed(e);
        }
    }
}
