using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Discovery.Messages;
using Trellis.Discovery.PeerRelay;

namespace Trellis.Discovery;

/// <summary>
/// Peer relays: a pair that punching left on the TCP relay (both behind NATs that map per
/// destination) reaches each other over UDP through a peer that relays for others (public, or
/// with a port mapping; opt-in, <see cref="ServesPeerRelay"/>), a path better than the TCP relay
/// and worse than direct. Flow: each side, <see cref="PeerRelayAfter"/> into its punch window with
/// no direct path, asks the relay (disco PeerRelayRequest, over its proven direct path to the
/// relay) to reach the other -> the relay, once both asked within <see cref="RelaySessions.PairWithin"/>,
/// grants each a handle (PeerRelayGrant) -> each pings the other through the relay
/// (<see cref="PeerRelayWire"/>) -> a pong proves the leg, and WireGuard's packets to the peer are
/// marked with the handle and sent to the relay, which rewrites them in place and passes them on.
/// Each side asks again every <see cref="RefreshEvery"/> while it uses the leg; a direct path, once
/// proven, takes over. The relay serves only pairs whose both nodes are in its map, may reach it
/// under the access policy (<see cref="SetPeerRelayClients"/>) and asked for each other (each asks
/// only for a peer its own map has, so the policy lets the two see each other); it sees only WireGuard
/// and disco ciphertext.
/// </summary>
public sealed partial class DiscoveryBind
{
    /// <summary>Punching first: an easy pair or one that port guessing can open goes direct in a few seconds.</summary>
    internal static readonly TimeSpan PeerRelayAfter = TimeSpan.FromSeconds(2);

    /// <summary>Between two requests while no leg is proven.</summary>
    internal static readonly TimeSpan AskEvery = TimeSpan.FromSeconds(3);

    /// <summary>Between two requests while a leg carries the peer (the relay drops a pair not asked for in 35 s).</summary>
    internal static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(10);

    /// <summary>A grant answers a request this recent; an unasked grant starts nothing.</summary>
    internal static readonly TimeSpan GrantValidFor = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A chosen peer relay that grants nothing this long (about three requests; a dead relay, one the
    /// other side cannot reach, or one that refuses the pair) is given up for that peer: both sides see
    /// the same silence, since a relay grants only when both asked, so both move to the next one alike.
    /// </summary>
    internal static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(9);

    /// <summary>How long a peer relay given up for a peer is skipped before it is tried again.</summary>
    internal static readonly TimeSpan FailedHoldDown = TimeSpan.FromSeconds(60);

    /// <summary>A request counts only from an endpoint of the asker this node proved this recently.</summary>
    internal static readonly TimeSpan ProvenWithin = TimeSpan.FromSeconds(60);

    /// <summary>What one side of a pair may send through this node: 1 Gbit/s, bursts of 1 MiB.</summary>
    internal const long PeerRelayBytesPerSecond = 125_000_000;

    internal const long PeerRelayBurstBytes = 1 << 20;

    private RelaySessions _sessions = null!;

    // Our legs toward peers by (the relay's endpoint, the handle): who a packet from a relay is from.
    private readonly ConcurrentDictionary<(Endpoint Relay, int Handle), PeerState> _byLeg = new();

    // Touched only by the receive thread: packets to forward after a batch is demultiplexed.
    private PacketBuffer[] _forward = [];

    private volatile bool _servesPeerRelay;

    // Whether any peer in the map relays for others: without one, a tick skips asking (written by SetPeers).
    private volatile bool _peerRelayOffered;

    // Null: every peer in the map may use this node as a peer relay (no policy in force).
    private volatile IReadOnlySet<Key>? _peerRelayClients;
    private long _peerRelaySent;
    private long _peerRelayReceived;
    private long _peerRelayForwarded;
    private long _peerRelayRefused;

    /// <summary>Whether this node relays for its peers (opt-in: `trellis up --peer-relay`). Off drops every pair at once.</summary>
    public bool ServesPeerRelay
    {
        get => _servesPeerRelay;
        set
        {
            _servesPeerRelay = value;
            if (!value)
            {
                _sessions.Clear();
            }
        }
    }

    /// <summary>WireGuard packets sent through a peer relay.</summary>
    public long PeerRelaySent => Interlocked.Read(ref _peerRelaySent);

    /// <summary>WireGuard packets received through a peer relay.</summary>
    public long PeerRelayReceived => Interlocked.Read(ref _peerRelayReceived);

    /// <summary>Packets this node forwarded as a peer relay.</summary>
    public long PeerRelayForwarded => Interlocked.Read(ref _peerRelayForwarded);

    /// <summary>Packets this node refused to forward (not serving, unknown handle, another source, over the rate) or to take from a relay (no leg of ours).</summary>
    public long PeerRelayRefused => Interlocked.Read(ref _peerRelayRefused);

    /// <summary>Pairs this node relays for now.</summary>
    public int PeerRelayPairs => _sessions.Count;

    /// <summary>
    /// The peers the access policy lets reach this node, the only ones it relays for (both nodes of a
    /// pair must be); null: every peer (no policy). Pairs with a node no longer in it are dropped.
    /// </summary>
    public void SetPeerRelayClients(IReadOnlySet<Key>? allowed)
    {
        _peerRelayClients = allowed;
        RetainPeerRelayPairs(_table);
    }

    private void InitPeerRelay()
    {
        _sessions = new RelaySessions(_time.TimestampFrequency, PeerRelayBytesPerSecond, PeerRelayBurstBytes);
        _forward = new PacketBuffer[Math.Max(1, _inner.BatchSize)];
        _servesPeerRelay = _options.ServesPeerRelay;
    }

    /// <summary>
    /// A packet marked for a relay (receive thread): rewritten in place toward the pair's other side and
    /// queued in <see cref="_forward"/>; false when it is refused.
    /// </summary>
    private bool TryForwardForPeers(PacketBuffer b, ref long now, ref int queued)
    {
        var packet = b.Packet;
        if (now == 0)
        {
            now = _time.GetTimestamp();
        }

        if (!_servesPeerRelay || queued == _forward.Length
            || !_sessions.TryForward(PeerRelayWire.Handle(packet), b.Endpoint, packet.Length, now, out var to, out var handle))
        {
            Interlocked.Increment(ref _peerRelayRefused);
            return false;
        }

        PeerRelayWire.Forward(packet, handle);
        b.Endpoint = to;
        b.Local = default;
        _forward[queued++] = b;
        return true;
    }

    private void SendForwarded(int queued)
    {
        if (queued == 0)
        {
            return;
        }

        _inner.Send(_forward.AsSpan(0, queued));
        Interlocked.Add(ref _peerRelayForwarded, queued);
        Array.Clear(_forward, 0, queued);
    }

    /// <summary>
    /// A packet a relay forwarded to us (receive thread): WireGuard is restored in place and kept
    /// (true) as from the peer's synthetic endpoint; discovery is handled here.
    /// </summary>
    private bool TakeFromPeerRelay(PacketBuffer b)
    {
        var packet = b.Packet;
        if (!_byLeg.TryGetValue((b.Endpoint, PeerRelayWire.Handle(packet)), out var peer))
        {
            Interlocked.Increment(ref _peerRelayRefused);
            return false;
        }

        if (PeerRelayWire.IsDisco(packet))
        {
            HandleDisco(packet[PeerRelayWire.HeaderSize..], b.Endpoint, viaRelay: false, default, legPeer: peer);
            return false;
        }

        PeerRelayWire.UnmarkWireGuard(packet);
        b.Endpoint = peer.Synthetic;
        Interlocked.Increment(ref _peerRelayReceived);
        return true;
    }

    /// <summary>Marks a WireGuard packet for the peer's trusted leg (Send); false when it has none.</summary>
    private static bool TryMarkForLeg(PeerState peer, PacketBuffer p, long now)
    {
        if (peer.Leg is not { } leg || now >= leg.TrustedUntil)
        {
            return false;
        }

        PeerRelayWire.MarkWireGuard(p.Packet, leg.Handle);
        p.Endpoint = leg.RelayEndpoint;
        return true;
    }

    /// <summary>The relay's side: a node asks us to carry its packets to another.</summary>
    private void OnPeerRelayRequest(PeerState asker, in DiscoMessage request, Endpoint source)
    {
        if (!_servesPeerRelay)
        {
            DropDisco("a peer relay request, but this node relays for no one");
            return;
        }

        var now = _time.GetTimestamp();
        Key disco = default;
        bool held = false, challenge = false;
        lock (asker.Sync)
        {
            if (!asker.Paths.TryGetValue(source, out var path) || path.LastPong == 0 || now - path.LastPong > Ticks(ProvenWithin))
            {
                // Anyone can replay a sealed request from another source; only a proven one names where
                // the asker is. An honest request sent on the pong that proved our path to the asker
                // outruns the asker's answer to our ping back: held until a pong proves its source.
                var previous = asker.HeldPeerRelayRequest;
                challenge = previous is null || now - previous.ChallengedAt >= Ticks(PingBackAfter);
                asker.HeldPeerRelayRequest = new HeldPeerRelayRequest(request.NodeKey, source, now, challenge ? now : previous!.ChallengedAt);
                disco = asker.DiscoKey;
                held = true;
            }
        }

        if (held)
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                LogPeerRelayRequestHeld(asker.NodeKey.ToString(), source.ToString());
            }

            if (challenge)
            {
                // Our own ping to it may have been lost (sent before its NAT opened): one of our own
                // proves it; one ping per request at most, a second apart per asker.
                SendPing(asker, disco, source, now, null, mainSocket: true);
            }

            return;
        }

        ServePeerRelayRequest(asker, request.NodeKey, source, now);
    }

    /// <summary>
    /// A pong from <paramref name="asker"/> proved <paramref name="proven"/> (receive thread): serves
    /// the request held from there, while it is recent enough that the asker still waits for it.
    /// </summary>
    private void ServeHeldPeerRelayRequest(PeerState asker, Endpoint proven, long now)
    {
        HeldPeerRelayRequest? held;
        lock (asker.Sync)
        {
            held = asker.HeldPeerRelayRequest;
            if (held is null || held.Source != proven)
            {
                return;
            }

            asker.HeldPeerRelayRequest = null;
        }

        if (_servesPeerRelay && now - held.At < Ticks(AskEvery))
        {
            ServePeerRelayRequest(asker, held.Target, proven, now);
        }
    }

    /// <summary>A request from a proven endpoint: checked against the map and the policy, then paired.</summary>
    private void ServePeerRelayRequest(PeerState asker, Key targetKey, Endpoint source, long now)
    {
        if (!_table.ByNodeKey.TryGetValue(targetKey, out var target) || target == asker)
        {
            DropDisco("a peer relay request for a node not in this node's map");
            return;
        }

        if (!MayUsePeerRelay(asker.NodeKey) || !MayUsePeerRelay(target.NodeKey))
        {
            DropDisco("a peer relay request for a pair the policy does not let both reach this node");
            return;
        }

        var grants = new List<RelayGrant>(2);
        _sessions.Request(asker.NodeKey, source, target.NodeKey, now, grants);
        foreach (var g in grants)
        {
            var to = g.To == asker.NodeKey ? asker : target;
            Key disco;
            lock (to.Sync)
            {
                disco = to.DiscoKey;
            }

            SendDisco(disco, to, g.Endpoint, DiscoMessage.PeerRelayGrant(g.Peer, g.Handle), mainSocket: true);
            if (g.To == asker.NodeKey && grants.Count == 2)
            {
                LogPeerRelayPair(asker.NodeKey.ToString(), target.NodeKey.ToString());
            }
        }
    }

    /// <summary>A relay we asked grants a leg toward a peer: take it and ping the peer through it.</summary>
    private void OnPeerRelayGrant(PeerState relay, in DiscoMessage grant, Endpoint source)
    {
        if (!relay.OffersPeerRelay || !_table.ByNodeKey.TryGetValue(grant.NodeKey, out var target) || target == relay)
        {
            DropDisco("a peer relay grant from a node that relays for no one, or for an unknown peer");
            return;
        }

        var now = _time.GetTimestamp();
        var leg = new PeerRelayLeg(relay.NodeKey, source, grant.Handle);
        Key disco;
        lock (target.Sync)
        {
            if (target.PeerRelayAskedOf != relay.NodeKey || target.PeerRelayAskedAt == 0 || now - target.PeerRelayAskedAt > Ticks(GrantValidFor))
            {
                DropDisco("a peer relay grant nobody asked for");
                return;
            }

            target.PeerRelayUnansweredSince = 0;
            if (target.Leg is { } current && current.SameGrant(leg))
            {
                return; // a refresh: the proven leg stays as it is
            }

            ForgetLegLocked(target);
            target.Leg = leg;
            target.LegPingedAt = now;
            _byLeg[(leg.RelayEndpoint, leg.Handle)] = target;
            disco = target.DiscoKey;
        }

        SendPingViaLeg(target, disco, leg, now, null);
    }

    /// <summary>
    /// Every second for an active peer without a direct path: ask a peer relay (again), heartbeat the
    /// leg, and keep the relay itself active so its own path stays proven.
    /// </summary>
    private void PeerRelayTick(PeerState peer, long now)
    {
        if (!_peerRelayOffered && peer.Leg is null)
        {
            return;
        }

        PeerRelayLeg? leg;
        bool ask, ping;
        Key disco;
        lock (peer.Sync)
        {
            var direct = peer.Direct;
            if (peer.DiscoOff || (direct is not null && now < direct.TrustedUntil) || now - peer.PunchSince < Ticks(PeerRelayAfter))
            {
                return;
            }

            leg = peer.Leg;
            var every = leg is not null && now < leg.TrustedUntil ? RefreshEvery : AskEvery;
            ask = now - peer.PeerRelayAskedAt >= Ticks(every);
            ping = leg is not null && now - peer.LegPingedAt >= Ticks(HeartbeatEvery);
            if (ping)
            {
                peer.LegPingedAt = now;
            }

            disco = peer.DiscoKey;
        }

        if (ping)
        {
            SendPingViaLeg(peer, disco, leg!, now, null);
        }

        if (ask)
        {
            AskPeerRelay(peer, now);
        }
    }

    /// <summary>
    /// Asks a peer relay for a leg to <paramref name="peer"/>. Both sides of the pair must ask the
    /// same relay, so both choose alike: the relay-offering peer with the lowest node key, by a proven
    /// direct path (else that path is probed now and the request goes on the pong that proves it,
    /// <see cref="AskPeerRelaysAwaiting"/>), leaving out those given up for this peer
    /// (<see cref="GiveUpAfter"/>); with none left the pair stays on the relay.
    /// </summary>
    private void AskPeerRelay(PeerState peer, long now)
    {
        if (ChoosePeerRelay(peer, now) is not { } relay)
        {
            return;
        }

        // Traffic rides on the relay now: keep its own path proven by heartbeats.
        relay.LastActive = now;
        Key disco;
        Endpoint to;
        lock (relay.Sync)
        {
            if (relay.Direct is not { } direct || now >= direct.TrustedUntil)
            {
                disco = default;
                to = default;
            }
            else
            {
                disco = relay.DiscoKey;
                to = direct.Endpoint;
            }
        }

        if (to == default)
        {
            // Marked before the probe goes, so its pong, on whichever thread, finds the request waiting.
            lock (peer.Sync)
            {
                peer.PeerRelayAwaitsPath = true;
            }

            lock (relay.Sync)
            {
                relay.PathAwaitedForPeerRelay = true;
            }

            StartRound(relay, full: true);
            return;
        }

        lock (peer.Sync)
        {
            peer.PeerRelayAskedAt = now;
            peer.PeerRelayAskedOf = relay.NodeKey;
            peer.PeerRelayAwaitsPath = false;
        }

        // From the main socket even when a guess socket met the relay (its answer there would be
        // refused, and legs run on the main socket): an unproven source is pinged and then served.
        SendDisco(disco, relay, to, DiscoMessage.PeerRelayRequest(peer.NodeKey), mainSocket: true);
    }

    /// <summary>
    /// A pong proved a direct path to <paramref name="relay"/> (receive thread): the requests that
    /// waited for one go now, not at the next tick. Both sides of a pair probe the relay at their
    /// first due tick, so their requests still meet there within moments of each other.
    /// </summary>
    private void AskPeerRelaysAwaiting(PeerState relay, long now)
    {
        lock (relay.Sync)
        {
            if (!relay.PathAwaitedForPeerRelay || relay.Direct is not { } direct || now >= direct.TrustedUntil)
            {
                return;
            }

            relay.PathAwaitedForPeerRelay = false;
        }

        foreach (var peer in _table.ByNodeKey.Values)
        {
            bool ask;
            lock (peer.Sync)
            {
                ask = peer.PeerRelayAwaitsPath && peer.PeerRelayAskedOf == relay.NodeKey && !peer.DiscoOff
                    && (peer.Direct is not { } own || now >= own.TrustedUntil);
                peer.PeerRelayAwaitsPath &= !ask;
            }

            if (ask)
            {
                AskPeerRelay(peer, now);
            }
        }
    }

    /// <summary>The peer relay to ask for <paramref name="peer"/>; gives up on the current one when it stayed silent too long.</summary>
    private PeerState? ChoosePeerRelay(PeerState peer, long now)
    {
        Dictionary<Key, long>? failed;
        lock (peer.Sync)
        {
            failed = peer.PeerRelaysFailed;
            failed = failed is null ? null : new Dictionary<Key, long>(failed);
        }

        PeerState? relay = null;
        PeerState? failedLongestAgo = null;
        var oldestFailure = long.MaxValue;
        foreach (var r in _table.ByNodeKey.Values)
        {
            if (!r.OffersPeerRelay || r == peer || r.DiscoOff)
            {
                continue;
            }

            if (failed is not null && failed.TryGetValue(r.NodeKey, out var at) && now - at < Ticks(FailedHoldDown))
            {
                if (at < oldestFailure)
                {
                    (failedLongestAgo, oldestFailure) = (r, at);
                }
            }
            else if (relay is null || SortsBefore(r.NodeKey, relay.NodeKey))
            {
                relay = r;
            }
        }

        // Every offering relay failed lately: the one failed longest ago is tried again rather than none
        // (a lone relay the other side was not yet asking when it was given up must not stay lost a minute).
        relay ??= failedLongestAgo;
        if (relay is null)
        {
            return null;
        }

        lock (peer.Sync)
        {
            if (peer.PeerRelayAskedOf != relay.NodeKey || peer.PeerRelayUnansweredSince == 0)
            {
                // A new choice, or the first request since the last grant: its silence starts now.
                peer.PeerRelayAskedOf = relay.NodeKey;
                peer.PeerRelayUnansweredSince = now;
                return relay;
            }

            if (now - peer.PeerRelayUnansweredSince < Ticks(GiveUpAfter))
            {
                return relay;
            }

            (peer.PeerRelaysFailed ??= [])[relay.NodeKey] = now;
            peer.PeerRelayUnansweredSince = 0;
            if (peer.Leg is { } leg && leg.Relay == relay.NodeKey)
            {
                ForgetLegLocked(peer);
            }
        }

        LogPeerRelayGivenUp(peer.NodeKey.ToString(), relay.NodeKey.ToString(), GiveUpAfter.TotalSeconds);
        return ChoosePeerRelay(peer, now);
    }

    private void SendPingViaLeg(PeerState peer, Key disco, PeerRelayLeg leg, long now, TaskCompletionSource<PingResult>? waiter, DiscoTxId? txId = null)
    {
        var tx = txId ?? DiscoTxId.New();
        _pending[tx] = new PendingPing(peer, leg.RelayEndpoint, false, now, waiter, leg);
        SendDiscoViaLeg(disco, leg, DiscoMessage.Ping(tx, _options.NodePublicKey));
    }

    /// <summary>Seals a message for the peer and sends it through its relay leg.</summary>
    private void SendDiscoViaLeg(Key disco, PeerRelayLeg leg, in DiscoMessage message)
    {
        lock (_discoLock)
        {
            var b = _discoBatch[0];
            var n = _sealer.Seal(disco, message, b.Data.Slice(PeerRelayWire.HeaderSize));
            PeerRelayWire.MarkDisco(b.Data, leg.Handle);
            b.Offset = 0;
            b.Length = PeerRelayWire.HeaderSize + n;
            b.Endpoint = leg.RelayEndpoint;
            b.Local = default;
            _inner.Send(_discoBatch);
        }
    }

    /// <summary>A pong through a leg proves it (peer.Sync held): packets to the peer may take it while no direct path holds.</summary>
    private void ProveLegLocked(PeerState peer, PeerRelayLeg pinged, long now, TimeSpan rtt)
    {
        if (peer.Leg is not { } current || !current.SameGrant(pinged))
        {
            return; // a leg replaced since
        }

        if (now >= current.TrustedUntil)
        {
            LogPeerRelayPath(peer.NodeKey.ToString(), current.Relay.ToString(), rtt.TotalMilliseconds);
        }

        peer.Leg = current with { TrustedUntil = now + _trustTicks, Latency = rtt };
    }

    /// <summary>Forgets the peer's leg (peer.Sync held).</summary>
    private void ForgetLegLocked(PeerState peer)
    {
        if (peer.Leg is { } leg)
        {
            _byLeg.TryRemove(KeyValuePair.Create((leg.RelayEndpoint, leg.Handle), peer));
            peer.Leg = null;
        }
    }

    private static bool SortsBefore(in Key a, in Key b)
    {
        Span<byte> x = stackalloc byte[Key.Size];
        Span<byte> y = stackalloc byte[Key.Size];
        a.CopyTo(x);
        b.CopyTo(y);
        return x.SequenceCompareTo(y) < 0;
    }

    /// <summary>After a map or policy change: pairs with a node that left (or may no longer reach us) are no longer served; whether anyone offers to relay.</summary>
    private void RetainPeerRelayPairs(PeerTable table)
    {
        _peerRelayOffered = table.ByNodeKey.Values.Any(p => p.OffersPeerRelay);
        _sessions.Retain(k => table.ByNodeKey.ContainsKey(k) && MayUsePeerRelay(k));
    }

    private bool MayUsePeerRelay(Key node) => _peerRelayClients is not { } allowed || allowed.Contains(node);
}
