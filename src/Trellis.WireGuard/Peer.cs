using Trellis.Core.Keys;
using Trellis.Core.Transport;

namespace Trellis.WireGuard;

/// <summary>
/// A remote WireGuard peer: its static key, optional preshared key, endpoint, the keypair slots
/// (previous, current, next), packets staged until a session exists, counters and timers.
/// </summary>
public sealed partial class Peer
{
    // Taken per batch by the packet threads of both directions. Monitors, not Locks: a Lock creates its
    // wait event the first time a thread blocks on it, which here can come mid-traffic; a Monitor
    // blocks without allocating.
    private readonly object _keypairsLock = new();
    private readonly object _endpointLock = new();

    // guarded by _keypairsLock
    private Keypair? _previous;
    private Keypair? _current;
    private Keypair? _next;

    // guarded by _endpointLock
    private Endpoint _endpoint;
    private bool _hasEndpoint;
    private LocalAddress _source; // our address the peer last reached us on: replies leave from it (sticky source)

    private long _rxBytes;
    private long _txBytes;
    private long _droppedByFilter;
    private long _lastHandshakeUnixNanos;
    private int _persistentKeepaliveInterval;

    internal Peer(Device device, Key publicKey)
    {
        Device = device;
        PublicKey = publicKey;
        Handshake = new Handshake();
        Cookies = new CookieGenerator(device.Time, publicKey);
        Timers = new PeerTimers(this, device.Time);
    }

    public Key PublicKey { get; }

    internal Device Device { get; }

    internal Handshake Handshake { get; }

    internal CookieGenerator Cookies { get; }

    internal PeerTimers Timers { get; }

    // guarded by Handshake.SyncRoot
    internal byte[] StaticStatic { get; } = new byte[32];

    internal bool StaticStaticValid { get; set; }

    internal byte[] PresharedKey { get; } = new byte[32];

    public long RxBytes => Interlocked.Read(ref _rxBytes);

    public long TxBytes => Interlocked.Read(ref _txBytes);

    /// <summary>Decrypted packets from this peer that the device's inbound filter refused.</summary>
    public long DroppedByFilter => Interlocked.Read(ref _droppedByFilter);

    /// <summary>Wall-clock time of the last completed handshake, or null.</summary>
    public DateTimeOffset? LastHandshake
    {
        get
        {
            var nanos = Interlocked.Read(ref _lastHandshakeUnixNanos);
            return nanos == 0 ? null : DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);
        }
    }

    internal long LastHandshakeUnixNanos => Interlocked.Read(ref _lastHandshakeUnixNanos);

    /// <summary>Seconds between keepalives sent regardless of traffic (0 = off), for peers behind NAT.</summary>
    public int PersistentKeepaliveInterval => Volatile.Read(ref _persistentKeepaliveInterval);

    public Endpoint? Endpoint
    {
        get
        {
            lock (_endpointLock)
            {
                return _hasEndpoint ? _endpoint : null;
            }
        }
    }

    public void SetEndpoint(Endpoint endpoint)
    {
        lock (_endpointLock)
        {
            _endpoint = endpoint;
            _hasEndpoint = true;
            _source = default;
        }
    }

    /// <summary>Our address this peer's packets last arrived on, which our packets to it leave from.</summary>
    public LocalAddress Source
    {
        get
        {
            lock (_endpointLock)
            {
                return _source;
            }
        }
    }

    /// <summary>
    /// Roaming: the endpoint follows the source of the latest authenticated packet, and our source
    /// address follows the address that packet was sent to, so a host with several addresses answers
    /// from the one the peer uses and the peer's view of us never wanders.
    /// </summary>
    internal void UpdateEndpointFromPacket(in Endpoint source, LocalAddress local)
    {
        lock (_endpointLock)
        {
            _endpoint = source;
            _hasEndpoint = true;
            _source = local;
        }
    }

    internal bool TryGetEndpoint(out Endpoint endpoint)
    {
        lock (_endpointLock)
        {
            endpoint = _endpoint;
            return _hasEndpoint;
        }
    }

    internal bool TryGetEndpoint(out Endpoint endpoint, out LocalAddress source)
    {
        lock (_endpointLock)
        {
            endpoint = _endpoint;
            source = _source;
            return _hasEndpoint;
        }
    }

    public void SetPresharedKey(Key key)
    {
        lock (Handshake.SyncRoot)
        {
            key.CopyTo(PresharedKey);
        }
    }

    public bool HasPresharedKey
    {
        get
        {
            lock (Handshake.SyncRoot)
            {
                return PresharedKey.AsSpan().IndexOfAnyExcept((byte)0) >= 0;
            }
        }
    }

    /// <summary>Sets the persistent keepalive; turning it on sends one at once, as wireguard-go does.</summary>
    public void SetPersistentKeepalive(int seconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(seconds, ushort.MaxValue);
        var old = Interlocked.Exchange(ref _persistentKeepaliveInterval, seconds);
        if (seconds > 0 && old == 0 && Device.IsUp)
        {
            SendKeepalive();
        }
    }

    internal void AddRx(long bytes) => Interlocked.Add(ref _rxBytes, bytes);

    internal void AddTx(long bytes) => Interlocked.Add(ref _txBytes, bytes);

    internal void CountDroppedByFilter() => Interlocked.Increment(ref _droppedByFilter);

    internal void MarkHandshakeComplete() => Interlocked.Exchange(ref _lastHandshakeUnixNanos, (Device.Time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100);

    internal Keypair? CurrentKeypair
    {
        get
        {
            lock (_keypairsLock)
            {
                return _current;
            }
        }
    }

    /// <summary>Installs a new session: initiators use it at once; responders wait for key confirmation.</summary>
    internal void InstallKeypair(Keypair keypair)
    {
        lock (_keypairsLock)
        {
            if (keypair.IsInitiator)
            {
                if (_next is not null)
                {
                    Device.DeleteKeypair(_previous);
                    _previous = _next;
                    _next = null;
                    Device.DeleteKeypair(_current);
                }
                else
                {
                    Device.DeleteKeypair(_previous);
                    _previous = _current;
                }

                _current = keypair;
            }
            else
            {
                Device.DeleteKeypair(_next);
                _next = keypair;
                Device.DeleteKeypair(_previous);
                _previous = null;
            }
        }
    }

    /// <summary>Key confirmation: the first packet under the "next" keypair promotes it to current.</summary>
    internal bool ReceivedWithKeypair(Keypair keypair)
    {
        lock (_keypairsLock)
        {
            if (!ReferenceEquals(_next, keypair))
            {
                return false;
            }

            Device.DeleteKeypair(_previous);
            _previous = _current;
            _current = _next;
            _next = null;
            return true;
        }
    }

    /// <summary>Forgets every session and the handshake in progress (the key-zeroing timer, removal).</summary>
    internal void ZeroKeyMaterial()
    {
        lock (_keypairsLock)
        {
            Device.DeleteKeypair(_previous);
            Device.DeleteKeypair(_current);
            Device.DeleteKeypair(_next);
            _previous = _current = _next = null;
        }

        lock (Handshake.SyncRoot)
        {
            if (Handshake.LocalIndex != 0)
            {
                Device.ForgetIndex(Handshake.LocalIndex);
            }

            Handshake.ClearLocked();
        }
    }

    public override string ToString() => $"peer({PublicKey.ToBase64()[..8]}…)";
}
