namespace Trellis.WireGuard;

/// <summary>
/// The protocol's five timers for one peer and the events that arm and disarm them, following the
/// WireGuard paper section 6 and the reference implementations' rules.
/// </summary>
internal sealed class PeerTimers : IDisposable
{
    private readonly Peer _peer;
    private int _handshakeAttempts;
    private int _needAnotherKeepalive;
    private int _sentLastMinuteHandshake;
    private volatile bool _stopped;

    public PeerTimers(Peer peer, TimeProvider time)
    {
        _peer = peer;
        RetransmitHandshake = new PeerTimer(time, ExpiredRetransmitHandshake);
        SendKeepalive = new PeerTimer(time, ExpiredSendKeepalive);
        NewHandshake = new PeerTimer(time, ExpiredNewHandshake);
        ZeroKeyMaterial = new PeerTimer(time, ExpiredZeroKeyMaterial);
        PersistentKeepalive = new PeerTimer(time, ExpiredPersistentKeepalive);
    }

    public PeerTimer RetransmitHandshake { get; }

    public PeerTimer SendKeepalive { get; }

    public PeerTimer NewHandshake { get; }

    public PeerTimer ZeroKeyMaterial { get; }

    public PeerTimer PersistentKeepalive { get; }

    public int HandshakeAttempts => Volatile.Read(ref _handshakeAttempts);

    private bool Active => !_stopped && _peer.Device.IsUp;

    private static TimeSpan Jitter() => TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)Constants.RekeyTimeoutJitterMax.TotalMilliseconds));

    public void ResetHandshakeAttempts() => Volatile.Write(ref _handshakeAttempts, 0);

    /// <summary>True once per session: the receive-side "rekey before the keys expire" attempt.</summary>
    public bool TryMarkLastMinuteHandshake() => Interlocked.Exchange(ref _sentLastMinuteHandshake, 1) == 0;

    private void ExpiredRetransmitHandshake()
    {
        if (_handshakeAttempts >= Constants.MaxTimerHandshakes)
        {
            // Gave up: drop what waited for this session and forget keys after three reject periods.
            _peer.ClearStaged();
            if (!ZeroKeyMaterial.IsPending)
            {
                ZeroKeyMaterial.Mod(Constants.RejectAfterTime * 3);
            }

            return;
        }

        Interlocked.Increment(ref _handshakeAttempts);
        _peer.SendHandshakeInitiation(isRetry: true);
    }

    private void ExpiredSendKeepalive()
    {
        _peer.SendKeepalive();
        if (Interlocked.Exchange(ref _needAnotherKeepalive, 0) == 1)
        {
            SendKeepalive.Mod(Constants.KeepaliveTimeout);
        }
    }

    private void ExpiredNewHandshake() => _peer.SendHandshakeInitiation(isRetry: false);

    private void ExpiredZeroKeyMaterial() => _peer.ZeroKeyMaterial();

    private void ExpiredPersistentKeepalive()
    {
        if (_peer.PersistentKeepaliveInterval > 0)
        {
            _peer.SendKeepalive();
        }
    }

    /// <summary>Data (not a keepalive) was sent: expect an answer, or rekey.</summary>
    public void DataSent()
    {
        if (Active && !NewHandshake.IsPending)
        {
            NewHandshake.Mod(Constants.KeepaliveTimeout + Constants.RekeyTimeout + Jitter());
        }
    }

    /// <summary>Data was received: answer with a keepalive if we send nothing ourselves.</summary>
    public void DataReceived()
    {
        if (!Active)
        {
            return;
        }

        if (!SendKeepalive.IsPending)
        {
            SendKeepalive.Mod(Constants.KeepaliveTimeout);
        }
        else
        {
            Volatile.Write(ref _needAnotherKeepalive, 1);
        }
    }

    /// <summary>Any authenticated packet (including keepalives and handshakes) was sent.</summary>
    public void AnyAuthenticatedPacketSent()
    {
        if (Active)
        {
            SendKeepalive.Del();
        }
    }

    /// <summary>Any authenticated packet was received.</summary>
    public void AnyAuthenticatedPacketReceived()
    {
        if (Active)
        {
            NewHandshake.Del();
        }
    }

    public void HandshakeInitiated()
    {
        if (Active)
        {
            RetransmitHandshake.Mod(Constants.RekeyTimeout + Jitter());
        }
    }

    public void HandshakeComplete()
    {
        if (Active)
        {
            RetransmitHandshake.Del();
        }

        Volatile.Write(ref _handshakeAttempts, 0);
        Volatile.Write(ref _sentLastMinuteHandshake, 0);
        _peer.MarkHandshakeComplete();
    }

    /// <summary>A session was derived: forget it all if nothing renews it for three reject periods.</summary>
    public void SessionDerived()
    {
        if (Active)
        {
            ZeroKeyMaterial.Mod(Constants.RejectAfterTime * 3);
        }
    }

    /// <summary>Any authenticated packet went either way: restart the persistent keepalive countdown.</summary>
    public void AnyAuthenticatedPacketTraversal()
    {
        var interval = _peer.PersistentKeepaliveInterval;
        if (interval > 0 && Active)
        {
            PersistentKeepalive.Mod(TimeSpan.FromSeconds(interval));
        }
    }

    public void Stop()
    {
        _stopped = true;
        RetransmitHandshake.Del();
        SendKeepalive.Del();
        NewHandshake.Del();
        ZeroKeyMaterial.Del();
        PersistentKeepalive.Del();
    }

    public void Dispose()
    {
        _stopped = true;
        RetransmitHandshake.Dispose();
        SendKeepalive.Dispose();
        NewHandshake.Dispose();
        ZeroKeyMaterial.Dispose();
        PersistentKeepalive.Dispose();
    }
}
