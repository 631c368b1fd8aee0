using System.Buffers;
using Trellis.Core.Transport;

namespace Trellis.WireGuard;

/// <summary>
/// The peer's control sends (handshake messages, keepalives) and packets staged while no session
/// exists. These run on timer and handshake threads, off the batched data path.
/// </summary>
public sealed partial class Peer
{
    private readonly Lock _stagedLock = new();

    // guarded by _stagedLock
    private readonly Queue<(byte[] Buffer, int Length)> _staged = new();

    // _staged.Count, written under _stagedLock: the TUN reader asks for it per packet, without the lock
    private int _stagedCount;

    internal int StagedCount => Volatile.Read(ref _stagedCount);

    /// <summary>Queues a plaintext packet until a session exists; the oldest is dropped past the limit.</summary>
    internal void StagePacket(ReadOnlySpan<byte> packet)
    {
        var copy = ArrayPool<byte>.Shared.Rent(Math.Max(packet.Length, 1));
        packet.CopyTo(copy);
        lock (_stagedLock)
        {
            if (_staged.Count >= Constants.QueueStagedSize)
            {
                ArrayPool<byte>.Shared.Return(_staged.Dequeue().Buffer);
                Interlocked.Increment(ref Device.Counters.StagedDropped);
            }

            _staged.Enqueue((copy, packet.Length));
            Volatile.Write(ref _stagedCount, _staged.Count);
        }
    }

    internal void ClearStaged()
    {
        lock (_stagedLock)
        {
            while (_staged.TryDequeue(out var p))
            {
                ArrayPool<byte>.Shared.Return(p.Buffer);
            }

            Volatile.Write(ref _stagedCount, 0);
        }
    }

    /// <summary>Sends what is staged under the current session, or starts a handshake when there is none usable.</summary>
    internal void SendStagedPackets()
    {
        while (true)
        {
            var keypair = CurrentKeypair;
            if (keypair is null || !Device.IsUsableForSending(keypair))
            {
                SendHandshakeInitiation(isRetry: false);
                return;
            }

            (byte[] Buffer, int Length) packet;
            lock (_stagedLock)
            {
                if (!_staged.TryDequeue(out packet))
                {
                    return;
                }

                Volatile.Write(ref _stagedCount, _staged.Count);
            }

            try
            {
                if (!SendTransport(keypair, packet.Buffer.AsSpan(0, packet.Length)))
                {
                    return;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(packet.Buffer);
            }
        }
    }

    internal void SendKeepalive()
    {
        if (!Device.IsUp)
        {
            return;
        }

        lock (_stagedLock)
        {
            if (_staged.Count == 0)
            {
                _staged.Enqueue((ArrayPool<byte>.Shared.Rent(1), 0));
                Volatile.Write(ref _stagedCount, 1);
            }
        }

        SendStagedPackets();
    }

    /// <summary>Encrypts one packet under <paramref name="keypair"/> on this thread and sends it.</summary>
    private bool SendTransport(Keypair keypair, ReadOnlySpan<byte> plaintext)
    {
        if (!TryGetEndpoint(out var endpoint, out var source))
        {
            Interlocked.Increment(ref Device.Counters.NoEndpoint);
            return false;
        }

        var nonce = keypair.NextNonce();
        if (nonce >= Constants.RejectAfterMessages)
        {
            return false;
        }

        var buffer = Device.ScratchBuffer();
        plaintext.CopyTo(buffer.Data.Slice(MessageLayout.TransportHeaderSize));
        lock (keypair.SyncRoot)
        {
            if (keypair.IsDeleted)
            {
                return false;
            }

            buffer.Length = Device.SealTransport(buffer.Data, plaintext.Length, keypair, nonce);
        }

        buffer.Offset = 0;
        buffer.Endpoint = endpoint;
        buffer.Local = source;
        Device.SendToBind(buffer);
        AddTx(buffer.Length);
        Timers.AnyAuthenticatedPacketTraversal();
        Timers.AnyAuthenticatedPacketSent();
        if (plaintext.Length > 0)
        {
            Timers.DataSent();
        }

        KeepKeyFreshSending(keypair);
        return true;
    }

    /// <summary>Sends an initiation unless one went out less than RekeyTimeout ago.</summary>
    internal void SendHandshakeInitiation(bool isRetry)
    {
        if (!Device.IsUp || IsRemoved)
        {
            return;
        }

        if (!isRetry)
        {
            Timers.ResetHandshakeAttempts();
        }

        lock (Handshake.SyncRoot)
        {
            if (Handshake.LastSentHandshake is { } last && Device.Time.GetElapsedTime(last) < Constants.RekeyTimeout)
            {
                return;
            }

            Handshake.LastSentHandshake = Device.Time.GetTimestamp();
        }

        Span<byte> msg = stackalloc byte[MessageLayout.InitiationSize];
        if (!Device.CreateInitiation(this, msg))
        {
            return;
        }

        Cookies.AddMacs(msg);
        Timers.AnyAuthenticatedPacketTraversal();
        Timers.AnyAuthenticatedPacketSent();

        // Armed before the send: a fast answer completes the handshake on another thread, and its
        // disarming must not come before this arming.
        Timers.HandshakeInitiated();
        SendRaw(msg);
    }

    internal void SendHandshakeResponse()
    {
        lock (Handshake.SyncRoot)
        {
            Handshake.LastSentHandshake = Device.Time.GetTimestamp();
        }

        Span<byte> msg = stackalloc byte[MessageLayout.ResponseSize];
        if (!Device.CreateResponse(this, msg) || Device.BeginSymmetricSession(this) is null)
        {
            return;
        }

        Cookies.AddMacs(msg);
        Timers.SessionDerived();
        Timers.AnyAuthenticatedPacketTraversal();
        Timers.AnyAuthenticatedPacketSent();
        SendRaw(msg);
    }

    private void SendRaw(ReadOnlySpan<byte> message)
    {
        if (!TryGetEndpoint(out var endpoint, out var source))
        {
            Interlocked.Increment(ref Device.Counters.NoEndpoint);
            return;
        }

        var buffer = Device.ScratchBuffer();
        message.CopyTo(buffer.Data);
        buffer.Offset = 0;
        buffer.Length = message.Length;
        buffer.Endpoint = endpoint;
        buffer.Local = source;
        Device.SendToBind(buffer);
        AddTx(message.Length);
    }

    /// <summary>The initiator rekeys after RekeyAfterTime or RekeyAfterMessages.</summary>
    internal void KeepKeyFreshSending(Keypair keypair)
    {
        if (keypair.IsInitiator &&
            (keypair.SendNonce > Constants.RekeyAfterMessages || Device.Time.GetElapsedTime(keypair.CreatedTimestamp) > Constants.RekeyAfterTime))
        {
            SendHandshakeInitiation(isRetry: false);
        }
    }

    /// <summary>The initiator rekeys once when receiving under keys close to RejectAfterTime.</summary>
    internal void KeepKeyFreshReceiving()
    {
        var keypair = CurrentKeypair;
        if (keypair is { IsInitiator: true } &&
            Device.Time.GetElapsedTime(keypair.CreatedTimestamp) > Constants.RejectAfterTime - Constants.KeepaliveTimeout - Constants.RekeyTimeout &&
            Timers.TryMarkLastMinuteHandshake())
        {
            SendHandshakeInitiation(isRetry: false);
        }
    }

    internal bool IsRemoved { get; private set; }

    internal void Remove()
    {
        IsRemoved = true;
        Timers.Stop();
        Timers.Dispose();
        ZeroKeyMaterial();
        ClearStaged();
    }
}
