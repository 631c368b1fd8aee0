using Trellis.Core.Transport;
using Trellis.Discovery.PeerRelay;

namespace Trellis.Discovery;

/// <summary>
/// Outbound: each packet to a synthetic endpoint goes over its peer's trusted direct path (through
/// the guess socket that met the peer when port guessing found the path, else batched on the main
/// socket), else a peer relay's proven leg (marked in place, restored once sent), else the relay,
/// and while a direct path is in doubt (a ping on it overdue, or its trust just lapsed), over both.
/// The relay's packets of one batch are queued together and its writer woken once, after the batch.
/// </summary>
public sealed partial class DiscoveryBind
{
    // Per sending thread: the packets of one batch that go out through the socket, and their
    // endpoints as the caller set them (restored after the send). Allocated once per thread.
    [ThreadStatic]
    private static PacketBuffer[]? t_direct;

    [ThreadStatic]
    private static Endpoint[]? t_saved;

    private long _directSent;
    private long _relaySent;
    private long _relaySendDrops;
    private long _noRoute;
    private long _bothSent;

    /// <summary>Packets sent straight to a peer's proven endpoint.</summary>
    public long DirectSent => Interlocked.Read(ref _directSent);

    /// <summary>Packets handed to the relay.</summary>
    public long RelaySent => Interlocked.Read(ref _relaySent);

    /// <summary>Packets the relay would not take (not connected, queue full).</summary>
    public long RelaySendDrops => Interlocked.Read(ref _relaySendDrops);

    /// <summary>
    /// Packets sent both over the relay and to a direct path in doubt (a ping on it unanswered for
    /// <see cref="PongOverdueAfter"/>, or its trust lapsed: its last pong 6.5 to 13 s ago): while the
    /// path is in doubt, neither copy waits for the other.
    /// </summary>
    public long BothSent => Interlocked.Read(ref _bothSent);

    /// <summary>Packets to a synthetic endpoint of no current peer.</summary>
    public long NoRouteDrops => Interlocked.Read(ref _noRoute);

    /// <summary>
    /// How long a ping on the direct path may go unanswered before packets also take the relay. A
    /// path that stops carrying UDP is otherwise found only when its trust lapses, 3.5 to 6.5 s later
    /// (the last pong 0 to 3 s old), and each side of a pair finds it on its own: a cut took 5.5 s on
    /// average to carry pings again. With this, each side sends over both within a heartbeat and 1.5 s
    /// of the cut. Far above a direct path's round trip; a pong lost on a healthy path costs relay
    /// copies until the next heartbeat's pong (at most 3 s). The path and `status` stay as they are.
    /// </summary>
    internal static readonly TimeSpan PongOverdueAfter = TimeSpan.FromSeconds(1.5);

    /// <summary>A ping on the peer's direct path has gone unanswered for <see cref="PongOverdueAfter"/>.</summary>
    private bool PongOverdue(PeerState peer, long now)
    {
        var since = peer.DirectPingSince;
        return since != 0 && now - since >= _pongOverdueTicks;
    }

    /// <summary>Queues one packet of a batch for the relay; <see cref="Send"/> flushes once after the batch.</summary>
    private void SendViaRelay(PeerState peer, PacketBuffer p)
    {
        if (_relay is { } relay && relay.TryQueue(peer.NodeKey, p.Packet))
        {
            Interlocked.Increment(ref _relaySent);
        }
        else
        {
            Interlocked.Increment(ref _relaySendDrops);
        }
    }

    public void Send(ReadOnlySpan<PacketBuffer> packets)
    {
        var direct = t_direct;
        var saved = t_saved;
        if (direct is null || saved is null || direct.Length < packets.Length)
        {
            direct = t_direct = new PacketBuffer[Math.Max(packets.Length, BatchSize)];
            saved = t_saved = new Endpoint[direct.Length];
        }

        var table = _table;
        var now = _time.GetTimestamp();
        int n = 0, viaPath = 0, viaLeg = 0, viaRelay = 0;
        foreach (var p in packets)
        {
            if (!SyntheticEndpoint.TryGetIndex(p.Endpoint, out var index))
            {
                // A real endpoint (a peer configured by hand): straight through.
                saved[n] = p.Endpoint;
                direct[n++] = p;
                continue;
            }

            var peer = (uint)index < (uint)table.ByIndex.Length ? table.ByIndex[index] : null;
            if (peer is null)
            {
                Interlocked.Increment(ref _noRoute);
                continue;
            }

            var lastActive = peer.LastActive;
            if (lastActive != now)
            {
                peer.LastActive = now;
                if (now - lastActive > _idleTicks)
                {
                    // Traffic after a quiet spell: look for a direct path now, not at the next tick.
                    StartRound(peer, full: true, reprobe: true);
                }
            }

            var path = peer.Direct;
            var trusted = path is not null && now < path.TrustedUntil && !PongOverdue(peer, now);
            if (path?.Via is { } via && now < path.TrustedUntil + _trustTicks)
            {
                // Met by port guessing: only that socket's mapping reaches the peer (its trust lapsing, the relay as well).
                via.Send(path.Endpoint, p.Packet);
                viaPath++;
                if (!trusted)
                {
                    SendViaRelay(peer, p);
                    viaRelay++;
                    Interlocked.Increment(ref _bothSent);
                }

                continue;
            }

            if (path is not null && trusted)
            {
                saved[n] = p.Endpoint;
                p.Endpoint = path.Endpoint;
                p.Local = path.Local;
                direct[n++] = p;
                viaPath++;
                continue;
            }

            var endpoint = p.Endpoint;
            if (TryMarkForLeg(peer, p, now))
            {
                p.Local = default;
                saved[n] = endpoint;
                direct[n++] = p;
                viaLeg++;
                continue;
            }

            SendViaRelay(peer, p);
            viaRelay++;
            if (path is not null && now < path.TrustedUntil + _trustTicks)
            {
                // Its pongs are late (overdue, or its trust lapsed), not yet missing: the copy on the path
                // arrives first if it still works, the relay's if not (the receiver's replay window drops the second).
                saved[n] = p.Endpoint;
                p.Endpoint = path.Endpoint;
                p.Local = path.Local;
                direct[n++] = p;
                Interlocked.Increment(ref _bothSent);
            }
        }

        if (viaRelay > 0)
        {
            _relay?.Flush();
        }

        if (n == 0)
        {
            return;
        }

        _inner.Send(direct.AsSpan(0, n));
        for (var i = 0; i < n; i++)
        {
            if (viaLeg > 0 && PeerRelayWire.IsMarkedWireGuard(direct[i].Packet))
            {
                PeerRelayWire.UnmarkWireGuard(direct[i].Packet);
            }

            direct[i].Endpoint = saved[i];
            direct[i] = null!;
        }

        if (viaPath > 0)
        {
            Interlocked.Add(ref _directSent, viaPath);
        }

        if (viaLeg > 0)
        {
            Interlocked.Add(ref _peerRelaySent, viaLeg);
        }
    }
}
