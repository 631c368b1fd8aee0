using Trellis.Core.Transport;

namespace Trellis.WireGuard;

/// <summary>Outbound: TUN read (batch) -> flow recording -> allowed-IPs -> nonce -> parallel seal -> ordered UDP send (batch).</summary>
public sealed partial class Device
{
    private const int HeadRoom = MessageLayout.TransportHeaderSize;
    private const int TailRoom = Constants.PaddingMultiple + MessageLayout.TagSize;

    // touched only by the TUN reader thread
    private readonly List<Peer> _peersToFlush = new(16);

    private void TunReadLoop()
    {
        PrepareThread();
        while (_outFree.Take(out var batch))
        {
            int n;
            try
            {
                n = Tun.Read(batch.Packets.AsSpan(0, _batchSize), HeadRoom);
            }
            catch (ObjectDisposedException)
            {
                n = 0;
            }
            catch (IOException e)
            {
                ReportFailure(e); // e.g. the interface was deleted under us
                n = 0;
            }

            if (n == 0)
            {
                _outFree.TryAdd(batch);
                return;
            }

            batch.Count = ClassifyOutbound(batch, n);
            foreach (var peer in _peersToFlush)
            {
                peer.SendStagedPackets();
            }

            _peersToFlush.Clear();
            if (batch.Count == 0)
            {
                _outFree.TryAdd(batch);
            }
            else
            {
                _outbound!.Submit(batch);
            }

            RecordAllocations(0);
        }
    }

    /// <summary>Finds each packet's peer and session; keeps those ready to seal at the front of the batch.</summary>
    private int ClassifyOutbound(PacketBatch batch, int n)
    {
        var filter = InboundFilter;
        var listenPort = Bind.Port;
        var kept = 0;
        for (var i = 0; i < n; i++)
        {
            var buffer = batch.Packets[i];
            if (buffer.Offset + buffer.Length + TailRoom > PacketBuffer.Capacity)
            {
                Interlocked.Increment(ref Counters.MalformedPackets);
                continue;
            }

            var destination = IPPacket.Destination(buffer.Packet);
            var peer = destination.IsEmpty ? null : AllowedIps.Lookup(destination);
            if (peer is null)
            {
                Interlocked.Increment(ref Counters.NoPeerForDestination);
                continue;
            }

            if (IsRoutingLoop(buffer.Packet, peer, listenPort))
            {
                Interlocked.Increment(ref Counters.RoutingLoop);
                continue;
            }

            // Before staging too: the reply to a packet that opens a session must find its flow.
            filter?.RecordOutbound(buffer.Packet);

            var keypair = peer.CurrentKeypair;
            ulong nonce = 0;
            var ready = keypair is not null && peer.StagedCount == 0 && IsUsableForSending(keypair) &&
                        (nonce = keypair.NextNonce()) < Constants.RejectAfterMessages;
            if (!ready)
            {
                peer.StagePacket(buffer.Packet);
                if (!_peersToFlush.Contains(peer))
                {
                    _peersToFlush.Add(peer);
                }

                continue;
            }

            batch.MoveTo(i, kept);
            batch.Keypairs[kept] = keypair;
            batch.Nonces[kept] = nonce;
            kept++;
        }

        return kept;
    }

    /// <summary>
    /// Whether the packet is our own WireGuard datagram coming back: from our listen port to the
    /// endpoint of the very peer whose allowed IPs routed it into the tunnel. The kernel refuses to
    /// send when the route to an endpoint leaves through its own device (ELOOP); a userspace device
    /// only sees such a datagram once it re-enters the TUN, and sealing it again would loop forever,
    /// each round a packet larger. Only a UDP packet from our port costs the endpoint lookup.
    /// </summary>
    private static bool IsRoutingLoop(ReadOnlySpan<byte> packet, Peer peer, ushort listenPort) =>
        listenPort != 0
        && IPPacket.UdpSourcePort(packet) == listenPort
        && peer.TryGetEndpoint(out var endpoint)
        && IPPacket.IsUdpTo(packet, endpoint);

    private void SealBatch(PacketBatch batch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var keypair = batch.Keypairs[i]!;
            var buffer = batch.Packets[i];
            if (keypair.IsDeleted)
            {
                batch.Ok[i] = false;
                continue;
            }

            buffer.Length = SealTransport(buffer.Data, buffer.Length, keypair, batch.Nonces[i]);
            buffer.Offset = 0;
            batch.Ok[i] = true;
        }
    }

    /// <summary>Runs in the ordered completion, one batch at a time: address, send, then account per run of one peer.</summary>
    private void SendBatch(PacketBatch batch)
    {
        var kept = 0;
        Peer? runPeer = null;
        Keypair? runKeypair = null;
        var runBytes = 0L;
        var runData = false;
        var hasEndpoint = false;
        Endpoint endpoint = default;
        LocalAddress source = default;
        for (var i = 0; i < batch.Count; i++)
        {
            if (!batch.Ok[i])
            {
                continue;
            }

            var keypair = batch.Keypairs[i]!;
            var peer = keypair.Peer;
            if (!ReferenceEquals(peer, runPeer))
            {
                FinishSendRun(runPeer, runKeypair, runBytes, runData);
                runPeer = peer;
                runBytes = 0;
                runData = false;
                hasEndpoint = peer.TryGetEndpoint(out endpoint, out source);
            }

            runKeypair = keypair;
            if (!hasEndpoint)
            {
                Interlocked.Increment(ref Counters.NoEndpoint);
                continue;
            }

            var buffer = batch.Packets[i];
            buffer.Endpoint = endpoint;
            buffer.Local = source;
            runBytes += buffer.Length;
            runData |= buffer.Length > MessageLayout.KeepaliveSize;
            batch.MoveTo(i, kept);
            kept++;
        }

        if (kept > 0 && IsUp)
        {
            try
            {
                Bind.Send(batch.Packets.AsSpan(0, kept));
            }
            catch (ObjectDisposedException)
            {
                // the socket is being replaced (listen port change): these packets are lost, as on any network
            }
        }

        FinishSendRun(runPeer, runKeypair, runBytes, runData);
        batch.Clear();
        _outFree.TryAdd(batch);
    }

    private static void FinishSendRun(Peer? peer, Keypair? keypair, long bytes, bool data)
    {
        if (peer is null)
        {
            return;
        }

        peer.AddTx(bytes);
        peer.Timers.AnyAuthenticatedPacketTraversal();
        peer.Timers.AnyAuthenticatedPacketSent();
        if (data)
        {
            peer.Timers.DataSent();
        }

        if (keypair is not null)
        {
            peer.KeepKeyFreshSending(keypair);
        }
    }
}
