using System.Buffers.Binary;
using Trellis.Core.Transport;

namespace Trellis.WireGuard;

/// <summary>
/// Handshake messages, on their own thread: mac1 always, and under load (a long queue) mac2 with
/// cookie replies and a per-source rate limit, so a flood costs the attacker a round trip.
/// </summary>
public sealed partial class Device
{
    private long _underLoadUntil;

    /// <summary>For tests: force (true) or forbid (false) the under-load behaviour; null measures the queue.</summary>
    internal bool? ForcedUnderLoad { get; set; }

    private bool EnqueueHandshake(ReadOnlySpan<byte> packet, in Endpoint source, LocalAddress local)
    {
        if (!_handshakeFree.TryTake(out var work))
        {
            Interlocked.Increment(ref Counters.HandshakeQueueFull);
            return false;
        }

        packet.CopyTo(work.Data);
        work.Length = packet.Length;
        work.Source = source;
        work.Local = local;
        if (!_handshakeQueue.TryAdd(work))
        {
            Interlocked.Increment(ref Counters.HandshakeQueueFull);
            _handshakeFree.TryAdd(work);
            return false;
        }

        return true;
    }

    private void HandshakeLoop()
    {
        PrepareThread();
        while (_handshakeQueue.Take(out var work))
        {
            try
            {
                ProcessHandshake(work.Message, work.Source, work.Local);
            }
            finally
            {
                _handshakeFree.TryAdd(work);
                Interlocked.Increment(ref _receivedSettled);
                RecordAllocations(2);
            }
        }
    }

    private bool IsUnderLoad()
    {
        if (ForcedUnderLoad is { } forced)
        {
            return forced;
        }

        var now = _time.GetTimestamp();
        if (_handshakeQueue.Count >= Constants.QueueHandshakeSize / 8)
        {
            _underLoadUntil = now + (long)(Constants.UnderLoadAfterTime.TotalSeconds * _time.TimestampFrequency);
            return true;
        }

        return now < _underLoadUntil;
    }

    internal void ProcessHandshake(ReadOnlySpan<byte> msg, Endpoint source, LocalAddress local = default)
    {
        var type = MessageLayout.ReadType(msg);
        if (type == MessageType.CookieReply)
        {
            var entry = _indices.Lookup(BinaryPrimitives.ReadUInt32LittleEndian(msg[MessageLayout.CookieReceiver..]));
            if (entry is not null && entry.Peer.Cookies.ConsumeReply(msg))
            {
                Interlocked.Increment(ref Counters.CookieRepliesAccepted);
            }
            else
            {
                Interlocked.Increment(ref Counters.HandshakeInvalid);
            }

            return;
        }

        if (!_cookieChecker.CheckMac1(msg))
        {
            Interlocked.Increment(ref Counters.HandshakeMac1Failed);
            return;
        }

        if (IsUnderLoad())
        {
            if (!_cookieChecker.CheckMac2(msg, source))
            {
                SendCookieReply(msg, source, local);
                return;
            }

            if (!_rateLimiter.Allow(source))
            {
                Interlocked.Increment(ref Counters.RateLimited);
                return;
            }
        }

        if (type == MessageType.Initiation)
        {
            var peer = ConsumeInitiation(msg);
            if (peer is null)
            {
                Interlocked.Increment(ref Counters.HandshakeInvalid);
                return;
            }

            peer.UpdateEndpointFromPacket(source, local);
            peer.AddRx(msg.Length);
            peer.SendHandshakeResponse();
            peer.Timers.AnyAuthenticatedPacketTraversal();
            peer.Timers.AnyAuthenticatedPacketReceived();
        }
        else
        {
            var peer = ConsumeResponse(msg);
            if (peer is null)
            {
                Interlocked.Increment(ref Counters.HandshakeInvalid);
                return;
            }

            peer.UpdateEndpointFromPacket(source, local);
            peer.AddRx(msg.Length);
            if (BeginSymmetricSession(peer) is null)
            {
                return;
            }

            peer.Timers.SessionDerived();
            peer.Timers.HandshakeComplete();
            Interlocked.Increment(ref Counters.HandshakesCompleted);

            // Before the keepalive: it sends staged data synchronously, and that data's "expect an
            // answer" timer must not be cancelled by this packet's arrival.
            peer.Timers.AnyAuthenticatedPacketTraversal();
            peer.Timers.AnyAuthenticatedPacketReceived();
            peer.SendKeepalive();
        }
    }

    private void SendCookieReply(ReadOnlySpan<byte> msg, in Endpoint source, LocalAddress local)
    {
        var buffer = ScratchBuffer();
        var senderIndex = BinaryPrimitives.ReadUInt32LittleEndian(msg[MessageLayout.InitSender..]);
        _cookieChecker.CreateReply(buffer.Data.Slice(0, MessageLayout.CookieReplySize), msg, senderIndex, source);
        buffer.Offset = 0;
        buffer.Length = MessageLayout.CookieReplySize;
        buffer.Endpoint = source;
        buffer.Local = local;

        // Counted before it leaves: whoever sees the reply's effect then also sees the count.
        Interlocked.Increment(ref Counters.CookieRepliesSent);
        SendToBind(buffer);
    }
}
