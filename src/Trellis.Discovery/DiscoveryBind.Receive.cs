using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Discovery.Messages;
using Trellis.Discovery.PeerRelay;
using Trellis.Net.Stun;

namespace Trellis.Discovery;

/// <summary>
/// Inbound: one receive thread reads the socket and demultiplexes STUN, discovery and WireGuard;
/// relayed packets arrive on the relay's thread, wait in preallocated slots, and are folded into
/// the next batch (the inner bind is woken from its socket wait when the socket is quiet).
/// </summary>
public sealed partial class DiscoveryBind
{
    private long _stunReceived;
    private long _discoReceived;
    private long _discoDropped;
    private long _unknownDropped;
    private long _relayReceived;
    private long _relayDropped;

    public long StunReceived => Interlocked.Read(ref _stunReceived);

    /// <summary>Discovery messages handled.</summary>
    public long DiscoReceived => Interlocked.Read(ref _discoReceived);

    /// <summary>Discovery messages dropped: malformed, tampered, from unknown disco keys, unmatched pongs.</summary>
    public long DiscoDropped => Interlocked.Read(ref _discoDropped);

    /// <summary>Datagrams that were none of STUN, discovery or WireGuard.</summary>
    public long UnknownDropped => Interlocked.Read(ref _unknownDropped);

    /// <summary>WireGuard packets received through the relay.</summary>
    public long RelayReceived => Interlocked.Read(ref _relayReceived);

    /// <summary>Relayed packets dropped: unknown sender, too large, or the queue full.</summary>
    public long RelayDropped => Interlocked.Read(ref _relayDropped);

    public int Receive(Span<PacketBuffer> packets)
    {
        while (!_closed)
        {
            var n = TakeRelayed(packets);
            if (n > 0)
            {
                return n;
            }

            // Dekker with OnRelayPacket: either we see its packet now, or it sees us waiting and wakes us.
            Interlocked.Exchange(ref _receiverWaiting, 1);
            if (Volatile.Read(ref _relayPending) > 0)
            {
                Volatile.Write(ref _receiverWaiting, 0);
                continue;
            }

            var m = _inner.Receive(packets);
            Volatile.Write(ref _receiverWaiting, 0);
            Volatile.Write(ref _wakePending, 0);
            if (m == 0)
            {
                if (_closed || _inner is not IWakeableBind || _inner.Port == 0)
                {
                    return 0;
                }

                // Woken by OnRelayPacket (or a wake-up left from an earlier one): take the relayed packets.
                continue;
            }

            var kept = Demultiplex(packets[..m]);
            kept += TakeRelayed(packets[kept..]);
            if (kept > 0)
            {
                return kept;
            }
        }

        return 0;
    }

    private int TakeRelayed(Span<PacketBuffer> packets)
    {
        if (packets.IsEmpty || Volatile.Read(ref _relayPending) == 0)
        {
            return 0;
        }

        var n = _relayQueue.Dequeue(packets, 0, TimeSpan.Zero);
        Interlocked.Add(ref _relayPending, -n);
        for (var i = 0; i < n; i++)
        {
            packets[i].Local = default; // it reached none of our addresses
        }

        return n;
    }

    /// <summary>Keeps WireGuard packets (moved to the front, sources of known peers made synthetic); handles the rest.</summary>
    private int Demultiplex(Span<PacketBuffer> packets)
    {
        var kept = 0;
        var forwarded = 0;
        long now = 0;
        for (var i = 0; i < packets.Length; i++)
        {
            var b = packets[i];
            var data = b.Packet;
            if (IsWireGuard(data) || (PeerRelayWire.IsFromRelay(data) && TakeFromPeerRelay(b)))
            {
                if (_byEndpoint.TryGetValue(b.Endpoint, out var peer))
                {
                    b.Endpoint = peer.Synthetic;
                }

                if (i != kept)
                {
                    (packets[kept], packets[i]) = (packets[i], packets[kept]);
                }

                kept++;
            }
            else if (DiscoCodec.IsDisco(data))
            {
                HandleDisco(data, b.Endpoint, viaRelay: false, default, local: b.Local);
            }
            else if (PeerRelayWire.IsTowardRelay(data))
            {
                TryForwardForPeers(b, ref now, ref forwarded);
            }
            else if (PeerRelayWire.IsFromRelay(data))
            {
                // Discovery through a peer relay, handled by TakeFromPeerRelay above, or refused there.
            }
            else if (StunPacket.IsStunPacket(data))
            {
                Interlocked.Increment(ref _stunReceived);
                StunHandler?.Invoke(data, b.Endpoint);
            }
            else if (!data.SequenceEqual(_wakePacket))
            {
                Interlocked.Increment(ref _unknownDropped);
            }
        }

        SendForwarded(forwarded);
        return kept;
    }

    /// <summary>WireGuard's four message types: the type byte, then three reserved zero bytes.</summary>
    internal static bool IsWireGuard(ReadOnlySpan<byte> packet) =>
        packet.Length >= 4 && packet[0] is >= 1 and <= 4 && packet[1] == 0 && packet[2] == 0 && packet[3] == 0;

    /// <summary>
    /// The relay's thread: discovery is handled here; WireGuard is queued for the receive thread,
    /// waiting (up to <see cref="RelayRoomWait"/>) while its queue is full: the relay connection then
    /// stops being read, and its TCP buffers hold what the device has not taken yet, as the socket's
    /// buffer does for UDP. Dropping here instead lost 4% of an iperf3 flow's packets over the relay.
    /// </summary>
    private void OnRelayPacket(Key source, ReadOnlySpan<byte> packet)
    {
        if (_closed)
        {
            return;
        }

        if (DiscoCodec.IsDisco(packet))
        {
            HandleDisco(packet, default, viaRelay: true, source);
            return;
        }

        if (!IsWireGuard(packet) || !_table.ByNodeKey.TryGetValue(source, out var peer) || !QueueForReceiver(peer, packet, RelayRoomWait))
        {
            Interlocked.Increment(ref _relayDropped);
            return;
        }

        Interlocked.Increment(ref _relayReceived);
    }

    /// <summary>
    /// A WireGuard packet that did not come through the main socket (the relay, a guess socket):
    /// into a preallocated slot for the receive thread, woken if it waits on the socket.
    /// </summary>
    /// <param name="waitForRoom">How long a full queue is waited on (blocking the caller) before the packet is dropped.</param>
    private bool QueueForReceiver(PeerState peer, ReadOnlySpan<byte> packet, TimeSpan waitForRoom = default)
    {
        if (!_relayQueue.Enqueue(packet, peer.Synthetic, waitForRoom))
        {
            return false;
        }

        Interlocked.Increment(ref _relayPending);
        if (Volatile.Read(ref _receiverWaiting) == 1 && Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            Wake();
        }

        return true;
    }

    /// <summary>
    /// Ends the receiver's socket wait. Not with a datagram where the bind can do without one: on a
    /// UDP-hostile network the firewall drops our own wake-up (EPERM on output, or dropped on input,
    /// loopback included), and relayed packets would wait for a UDP datagram that never comes.
    /// </summary>
    private void Wake()
    {
        if (_inner is IWakeableBind wakeable)
        {
            wakeable.WakeReceiver();
        }
        else
        {
            _inner.Send(_wakeBatch);
        }
    }
}
