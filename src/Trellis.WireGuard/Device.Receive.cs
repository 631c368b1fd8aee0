using System.Buffers.Binary;
using Trellis.Core.Transport;

namespace Trellis.WireGuard;

/// <summary>
/// Inbound: UDP receive (batch) -> demultiplex -> parallel open -> ordered replay and source checks
/// -> inbound filter -> TUN write (batch). Handshake messages go to their own queue and thread.
/// </summary>
public sealed partial class Device
{
    // Datagrams taken from the bind whose handling is finished (tests wait for it to catch up).
    private long _receivedSettled;

    // touched only by the receive thread
    private int _handshakesQueuedByClassify;

    /// <summary>How many received datagrams have been fully handled (dropped, written, or answered).</summary>
    internal long ReceivedSettled => Interlocked.Read(ref _receivedSettled);

    private void ReceiveLoop()
    {
        PrepareThread();
        while (_inFree.Take(out var batch))
        {
            int n;
            try
            {
                n = Bind.Receive(batch.Packets.AsSpan(0, _batchSize));
            }
            catch (ObjectDisposedException)
            {
                n = 0;
            }
            catch (IOException e)
            {
                ReportFailure(e);
                n = 0;
            }

            if (n == 0)
            {
                _inFree.TryAdd(batch);
                return;
            }

            batch.Count = ClassifyInbound(batch, n);
            Interlocked.Add(ref _receivedSettled, n - batch.Count - _handshakesQueuedByClassify);
            if (batch.Count == 0)
            {
                _inFree.TryAdd(batch);
            }
            else
            {
                _inbound!.Submit(batch);
            }

            RecordAllocations(1);
        }
    }

    /// <summary>Keeps transport messages with a known session at the front; queues handshakes; counts the rest.</summary>
    private int ClassifyInbound(PacketBatch batch, int n)
    {
        var kept = 0;
        _handshakesQueuedByClassify = 0;
        for (var i = 0; i < n; i++)
        {
            var buffer = batch.Packets[i];
            var packet = buffer.Packet;
            switch (MessageLayout.ReadType(packet))
            {
                case MessageType.Transport:
                    if (packet.Length < MessageLayout.TransportMinSize)
                    {
                        Interlocked.Increment(ref Counters.MalformedPackets);
                        continue;
                    }

                    var keypair = _indices.Lookup(BinaryPrimitives.ReadUInt32LittleEndian(packet[MessageLayout.TransportReceiver..]))?.Keypair;
                    if (keypair is null)
                    {
                        Interlocked.Increment(ref Counters.UnknownReceiverIndex);
                        continue;
                    }

                    batch.MoveTo(i, kept);
                    batch.Keypairs[kept] = keypair;
                    batch.Nonces[kept] = BinaryPrimitives.ReadUInt64LittleEndian(packet[MessageLayout.TransportCounter..]);
                    kept++;
                    break;
                case MessageType.Initiation when packet.Length == MessageLayout.InitiationSize:
                case MessageType.Response when packet.Length == MessageLayout.ResponseSize:
                case MessageType.CookieReply when packet.Length == MessageLayout.CookieReplySize:
                    if (EnqueueHandshake(packet, buffer.Endpoint, buffer.Local))
                    {
                        _handshakesQueuedByClassify++;
                    }

                    break;
                default:
                    Interlocked.Increment(ref Counters.MalformedPackets);
                    break;
            }
        }

        return kept;
    }

    private void OpenBatch(PacketBatch batch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var keypair = batch.Keypairs[i]!;
            var nonce = batch.Nonces[i];
            if (keypair.IsDeleted || nonce >= Constants.RejectAfterMessages ||
                _time.GetElapsedTime(keypair.CreatedTimestamp) >= Constants.RejectAfterTime)
            {
                Interlocked.Increment(ref Counters.ExpiredKeypair);
                batch.Ok[i] = false;
                continue;
            }

            batch.Ok[i] = OpenTransport(batch.Packets[i].Packet, keypair, nonce);
            if (!batch.Ok[i])
            {
                Interlocked.Increment(ref Counters.DecryptionFailed);
            }
        }
    }

    /// <summary>Runs in the ordered completion, one batch at a time: replay window, key confirmation, roaming, source check, filter, TUN write.</summary>
    private void WriteBatch(PacketBatch batch)
    {
        var filter = InboundFilter;
        var kept = 0;
        Peer? runPeer = null;
        var runBytes = 0L;
        var runData = false;
        for (var i = 0; i < batch.Count; i++)
        {
            if (!batch.Ok[i])
            {
                continue;
            }

            var keypair = batch.Keypairs[i]!;
            bool fresh;
            lock (keypair.SyncRoot)
            {
                fresh = keypair.Replay.ValidateCounter(batch.Nonces[i], Constants.RejectAfterMessages);
            }

            if (!fresh)
            {
                Interlocked.Increment(ref Counters.ReplayedPackets);
                continue;
            }

            var peer = keypair.Peer;
            if (!ReferenceEquals(peer, runPeer))
            {
                FinishReceiveRun(runPeer, runBytes, runData);
                runPeer = peer;
                runBytes = 0;
                runData = false;
            }

            if (peer.ReceivedWithKeypair(keypair))
            {
                peer.Timers.HandshakeComplete();
                Interlocked.Increment(ref Counters.HandshakesCompleted);
                peer.SendStagedPackets();
            }

            var buffer = batch.Packets[i];
            peer.UpdateEndpointFromPacket(buffer.Endpoint, buffer.Local);
            runBytes += buffer.Length;
            var plaintext = buffer.Data.Slice(MessageLayout.TransportHeaderSize, buffer.Length - MessageLayout.TransportMinSize);
            if (plaintext.IsEmpty)
            {
                continue; // keepalive
            }

            var length = IPPacket.Validate(plaintext, out var source);
            if (length == 0)
            {
                Interlocked.Increment(ref Counters.MalformedPackets);
                continue;
            }

            if (!ReferenceEquals(AllowedIps.Lookup(source), peer))
            {
                Interlocked.Increment(ref Counters.SourceNotAllowed);
                continue;
            }

            // Authenticated traffic (timers, roaming) whatever the policy says: a refused packet
            // still proves the session is alive.
            runData = true;
            if (filter is not null && !filter.Allows(plaintext[..length]))
            {
                // The peer's count first: whoever sees the device's total move then finds it in the peer's too.
                peer.CountDroppedByFilter();
                Interlocked.Increment(ref Counters.DroppedByFilter);
                continue;
            }

            buffer.Offset = MessageLayout.TransportHeaderSize;
            buffer.Length = length;
            batch.MoveTo(i, kept);
            kept++;
        }

        if (kept > 0)
        {
            try
            {
                Tun.Write(batch.Packets.AsSpan(0, kept));
            }
            catch (ObjectDisposedException)
            {
                // shutting down
            }
            catch (IOException e)
            {
                ReportFailure(e);
            }
        }

        FinishReceiveRun(runPeer, runBytes, runData);
        Interlocked.Add(ref _receivedSettled, batch.Count);
        batch.Clear();
        _inFree.TryAdd(batch);
    }

    private static void FinishReceiveRun(Peer? peer, long bytes, bool data)
    {
        if (peer is null)
        {
            return;
        }

        peer.AddRx(bytes);
        peer.KeepKeyFreshReceiving();
        peer.Timers.AnyAuthenticatedPacketTraversal();
        peer.Timers.AnyAuthenticatedPacketReceived();
        if (data)
        {
            peer.Timers.DataReceived();
        }
    }
}
