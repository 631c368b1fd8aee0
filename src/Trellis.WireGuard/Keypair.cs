using System.Security.Cryptography;

namespace Trellis.WireGuard;

/// <summary>
/// The transport keys of one completed handshake. Ciphers are created per worker slot, because a
/// .NET AEAD instance is not safe for concurrent use and the data path encrypts on several cores.
/// </summary>
public sealed class Keypair
{
    private readonly byte[] _sendKey;
    private readonly byte[] _receiveKey;
    private readonly ChaCha20Poly1305?[] _sendCiphers;
    private readonly ChaCha20Poly1305?[] _receiveCiphers;
    private long _sendNonce;

    internal Keypair(Peer peer, ReadOnlySpan<byte> sendKey, ReadOnlySpan<byte> receiveKey, bool isInitiator, uint localIndex, uint remoteIndex, long createdTimestamp, int cipherSlots)
    {
        Peer = peer;
        _sendKey = sendKey.ToArray();
        _receiveKey = receiveKey.ToArray();
        IsInitiator = isInitiator;
        LocalIndex = localIndex;
        RemoteIndex = remoteIndex;
        CreatedTimestamp = createdTimestamp;
        _sendCiphers = new ChaCha20Poly1305?[cipherSlots];
        _receiveCiphers = new ChaCha20Poly1305?[cipherSlots];
    }

    public Peer Peer { get; }

    public bool IsInitiator { get; }

    public uint LocalIndex { get; }

    public uint RemoteIndex { get; }

    /// <summary>When the session began, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long CreatedTimestamp { get; }

    internal ReplayFilter Replay { get; } = new();

    /// <summary>Guards <see cref="Replay"/> and the shared (last) cipher slot.</summary>
    internal Lock SyncRoot { get; } = new();

    /// <summary>Nonces handed out so far; the next send uses this value.</summary>
    public ulong SendNonce => (ulong)Interlocked.Read(ref _sendNonce);

    internal bool IsDeleted { get; private set; }

    /// <summary>Reserves the next counter. Values at or past RejectAfterMessages must not be used.</summary>
    internal ulong NextNonce() => (ulong)Interlocked.Increment(ref _sendNonce) - 1;

    internal void SetSendNonceForTest(ulong value) => Interlocked.Exchange(ref _sendNonce, (long)value);

    internal ChaCha20Poly1305 SendCipher(int slot) => _sendCiphers[slot] ??= new ChaCha20Poly1305(_sendKey);

    internal ChaCha20Poly1305 ReceiveCipher(int slot) => _receiveCiphers[slot] ??= new ChaCha20Poly1305(_receiveKey);

    /// <summary>
    /// Forgets the keys. Ciphers already handed to a worker finish their packet and are left to the
    /// finalizer rather than disposed under it.
    /// </summary>
    internal void Delete()
    {
        IsDeleted = true;
        CryptographicOperations.ZeroMemory(_sendKey);
        CryptographicOperations.ZeroMemory(_receiveKey);
    }
}
