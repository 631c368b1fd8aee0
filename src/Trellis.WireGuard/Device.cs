using System.Buffers.Binary;
using System.Security.Cryptography;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Crypto;

namespace Trellis.WireGuard;

/// <summary>
/// A WireGuard device: the local identity, its peers and cryptokey routing table, and the threads that
/// move packets between an <see cref="ITun"/> and an <see cref="IBind"/>. Configuration methods are
/// safe to call while traffic flows.
/// </summary>
public sealed partial class Device : IDisposable
{
    private readonly ReaderWriterLockSlim _identityLock = new();
    private readonly Lock _peersLock = new();
    private readonly Lock _lifecycleLock = new();
    private readonly IndexTable _indices = new();
    private readonly CookieChecker _cookieChecker;
    private readonly RateLimiter _rateLimiter;
    private readonly DeviceOptions _options;
    private readonly TimeProvider _time;

    // guarded by _identityLock
    private Key _privateKey;
    private Key _publicKey;
    private bool _hasIdentity;

    // guarded by _peersLock; readers use the immutable snapshot
    private readonly Dictionary<Key, Peer> _peers = [];
    private Peer[] _peerSnapshot = [];

    // replaced whole by any thread; the packet threads read it once per batch
    private IInboundFilter? _inboundFilter;

    // guarded by _lifecycleLock
    private bool _up;
    private bool _disposed;
    private ushort _listenPort;
    private uint _fwmark;

    [ThreadStatic]
    private static PacketBuffer? t_scratch;

    public Device(ITun tun, IBind bind, DeviceOptions? options = null, TimeProvider? time = null)
    {
        Tun = tun;
        Bind = bind;
        _options = options ?? new DeviceOptions();
        _time = time ?? TimeProvider.System;
        _cookieChecker = new CookieChecker(_time);
        _rateLimiter = new RateLimiter(_time);
        AllowedIps = new AllowedIps<Peer>();
        InitPipelines();
    }

    public ITun Tun { get; }

    public IBind Bind { get; }

    public TimeProvider Time => _time;

    public DeviceCounters Counters { get; } = new();

    /// <summary>Cryptokey routing: which peer owns which inner addresses.</summary>
    public AllowedIps<Peer> AllowedIps { get; }

    public int Mtu => Tun.Mtu;

    /// <summary>
    /// Decides which decrypted packets reach the TUN and sees every packet sent, for replies to this
    /// host's flows; null lets everything in. Takes effect from the next batch in each direction.
    /// </summary>
    public IInboundFilter? InboundFilter
    {
        get => Volatile.Read(ref _inboundFilter);
        set => Volatile.Write(ref _inboundFilter, value);
    }

    public bool IsUp => Volatile.Read(ref _up);

    public IReadOnlyList<Peer> Peers => Volatile.Read(ref _peerSnapshot);

    public ushort ListenPort
    {
        get
        {
            lock (_lifecycleLock)
            {
                return _up ? Bind.Port : _listenPort;
            }
        }
    }

    public uint Fwmark
    {
        get
        {
            lock (_lifecycleLock)
            {
                return _fwmark;
            }
        }
    }

    public Key? PrivateKey
    {
        get
        {
            _identityLock.EnterReadLock();
            try
            {
                return _hasIdentity ? _privateKey : null;
            }
            finally
            {
                _identityLock.ExitReadLock();
            }
        }
    }

    public Key? PublicKey
    {
        get
        {
            _identityLock.EnterReadLock();
            try
            {
                return _hasIdentity ? _publicKey : null;
            }
            finally
            {
                _identityLock.ExitReadLock();
            }
        }
    }

    /// <summary>Sets (or, with the zero key, removes) the static private key; a peer with the new public key is removed.</summary>
    public void SetPrivateKey(Key privateKey)
    {
        Span<byte> clamped = stackalloc byte[32];
        privateKey.CopyTo(clamped);
        X25519.Clamp(clamped);
        var key = new Key(clamped);
        CryptographicOperations.ZeroMemory(clamped);
        var isZero = privateKey.IsZero;
        var publicKey = isZero ? default : X25519.PublicKey(key);

        _identityLock.EnterWriteLock();
        try
        {
            if (_hasIdentity && _privateKey == key && !isZero)
            {
                return;
            }

            _privateKey = isZero ? default : key;
            _publicKey = publicKey;
            _hasIdentity = !isZero;
        }
        finally
        {
            _identityLock.ExitWriteLock();
        }

        if (!isZero)
        {
            RemovePeer(publicKey);
            _cookieChecker.Init(publicKey);
        }

        foreach (var peer in Peers)
        {
            peer.ZeroKeyMaterial();
            RecomputeStaticStatic(peer);
        }
    }

    internal bool TryGetIdentity(out Key privateKey, out Key publicKey)
    {
        _identityLock.EnterReadLock();
        try
        {
            privateKey = _privateKey;
            publicKey = _publicKey;
            return _hasIdentity;
        }
        finally
        {
            _identityLock.ExitReadLock();
        }
    }

    private void RecomputeStaticStatic(Peer peer)
    {
        var has = TryGetIdentity(out var privateKey, out _);
        lock (peer.Handshake.SyncRoot)
        {
            peer.StaticStaticValid = has && X25519.SharedSecret(privateKey, peer.PublicKey, peer.StaticStatic);
            if (!peer.StaticStaticValid)
            {
                CryptographicOperations.ZeroMemory(peer.StaticStatic);
            }
        }
    }

    public Peer? LookupPeer(Key publicKey)
    {
        lock (_peersLock)
        {
            return _peers.GetValueOrDefault(publicKey);
        }
    }

    /// <summary>
    /// Adds a peer; throws if it exists or is this device's own key. The all-zero key is a valid peer
    /// that can never handshake (its static-static DH is zero), as in the kernel and wireguard-go.
    /// </summary>
    public Peer AddPeer(Key publicKey)
    {
        if (PublicKey is { } own && own == publicKey)
        {
            throw new ArgumentException("a peer cannot have this device's own public key", nameof(publicKey));
        }

        Peer peer;
        lock (_peersLock)
        {
            if (_peers.ContainsKey(publicKey))
            {
                throw new ArgumentException("peer already exists", nameof(publicKey));
            }

            peer = new Peer(this, publicKey);
            _peers.Add(publicKey, peer);
            _peerSnapshot = [.. _peers.Values];
        }

        RecomputeStaticStatic(peer);
        return peer;
    }

    public bool RemovePeer(Key publicKey)
    {
        Peer? peer;
        lock (_peersLock)
        {
            if (!_peers.Remove(publicKey, out peer))
            {
                return false;
            }

            _peerSnapshot = [.. _peers.Values];
        }

        AllowedIps.RemoveByValue(peer);
        peer.Remove();
        return true;
    }

    public void RemoveAllPeers()
    {
        foreach (var peer in Peers)
        {
            RemovePeer(peer.PublicKey);
        }
    }

    /// <summary>Opens the socket and starts the threads.</summary>
    public void Up()
    {
        lock (_lifecycleLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_up)
            {
                return;
            }

            _listenPort = Bind.Open(_listenPort);
            if (_fwmark != 0)
            {
                Bind.SetMark(_fwmark);
            }

            Volatile.Write(ref _up, true);
            StartThreads();
        }

        foreach (var peer in Peers)
        {
            if (peer.PersistentKeepaliveInterval > 0)
            {
                peer.SendKeepalive();
            }
        }
    }

    public void SetListenPort(ushort port)
    {
        lock (_lifecycleLock)
        {
            _listenPort = port;
            if (_up && port != Bind.Port)
            {
                StopReceiveThread();
                _listenPort = Bind.Open(port);
                if (_fwmark != 0)
                {
                    Bind.SetMark(_fwmark);
                }

                StartReceiveThread();
            }
        }
    }

    public void SetFwmark(uint mark)
    {
        lock (_lifecycleLock)
        {
            _fwmark = mark;
            if (_up)
            {
                Bind.SetMark(mark);
            }
        }
    }

    internal bool IsUsableForSending(Keypair keypair) =>
        !keypair.IsDeleted &&
        keypair.SendNonce < Constants.RejectAfterMessages &&
        _time.GetElapsedTime(keypair.CreatedTimestamp) < Constants.RejectAfterTime;

    internal void DeleteKeypair(Keypair? keypair)
    {
        if (keypair is null)
        {
            return;
        }

        _indices.Delete(keypair.LocalIndex);
        lock (keypair.SyncRoot)
        {
            keypair.Delete();
        }
    }

    internal void ForgetIndex(uint index) => _indices.Delete(index);

    internal PacketBuffer ScratchBuffer() => t_scratch ??= new PacketBuffer();

    internal void SendToBind(PacketBuffer buffer)
    {
        if (IsUp)
        {
            Bind.Send(new ReadOnlySpan<PacketBuffer>(ref buffer));
        }
    }

    /// <summary>
    /// Pads and seals the plaintext at <c>data[16..16+length]</c> in place, writes the header, and
    /// returns the message length.
    /// </summary>
    internal int SealTransport(Span<byte> data, int length, Keypair keypair, ulong nonce)
    {
        var padding = MessageLayout.PaddingSize(length, Mtu);
        var padded = length + padding;
        data.Slice(MessageLayout.TransportHeaderSize + length, padding).Clear();
        MessageLayout.WriteType(data, MessageType.Transport);
        BinaryPrimitives.WriteUInt32LittleEndian(data[MessageLayout.TransportReceiver..], keypair.RemoteIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(data[MessageLayout.TransportCounter..], nonce);
        ChaChaPolyContext.ForCurrentThread().Seal(
            keypair.SendKey, nonce, data.Slice(MessageLayout.TransportHeaderSize, padded), data.Slice(MessageLayout.TransportHeaderSize + padded, MessageLayout.TagSize));
        return MessageLayout.TransportHeaderSize + padded + MessageLayout.TagSize;
    }

    /// <summary>Opens the transport message <paramref name="packet"/> in place; the plaintext follows the 16-byte header.</summary>
    internal static bool OpenTransport(Span<byte> packet, Keypair keypair, ulong nonce)
    {
        var bodyLength = packet.Length - MessageLayout.TransportMinSize;
        return ChaChaPolyContext.ForCurrentThread().Open(
            keypair.ReceiveKey, nonce, packet.Slice(MessageLayout.TransportHeaderSize, bodyLength), packet.Slice(MessageLayout.TransportHeaderSize + bodyLength, MessageLayout.TagSize));
    }

    public void Dispose()
    {
        lock (_lifecycleLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Volatile.Write(ref _up, false);
        }

        foreach (var peer in Peers)
        {
            peer.Remove();
        }

        StopThreads();
        _identityLock.Dispose();
    }
}
