using System.Security.Cryptography;

namespace Trellis.WireGuard;

/// <summary>
/// The transport keys of one completed handshake. The keys are plain bytes: each data-path thread
/// has its own cipher context and keys it per packet.
/// </summary>
public sealed class Keypair
{
    private readonly byte[] _sendKey;
    private readonly byte[] _receiveKey;
    private long _sendNonce;

    internal Keypair(Peer peer, ReadOnlySpan<byte> sendKey, ReadOnlySpan<byte> receiveKey, bool isInitiator, uint localIndex, uint remoteIndex, long createdTimestamp)
    {
        Peer = peer;
        _sendKey = sendKey.ToArray();
        _receiveKey = receiveKey.ToArray();
        IsInitiator = isInitiator;
        LocalIndex = localIndex;
        RemoteIndex = remoteIndex;
        CreatedTimestamp = createdTimestamp;
    }

    public Peer Peer { get; }

    public bool IsInitiator { get; }

    public uint LocalIndex { get; }

    public uint RemoteIndex { get; }

    /// <summary>When the session began, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long CreatedTimestamp { get; }

    internal ReplayFilter Replay { get; } = new();

    /// <summary>Guards <see cref="Replay"/>, and deletion against control-path sends.</summary>
    /// <remarks>A Monitor, not a Lock, as <c>Peer</c>'s data-path locks are (see there).</remarks>
    internal object SyncRoot { get; } = new();

    /// <summary>Nonces handed out so far; the next send uses this value.</summary>
    public ulong SendNonce => (ulong)Interlocked.Read(ref _sendNonce);

    internal bool IsDeleted { get; private set; }

    /// <summary>Reserves the next counter. Values at or past RejectAfterMessages must not be used.</summary>
    internal ulong NextNonce() => (ulong)Interlocked.Increment(ref _sendNonce) - 1;

    internal void SetSendNonceForTest(ulong value) => Interlocked.Exchange(ref _sendNonce, (long)value);

    internal ReadOnlySpan<byte> SendKey => _sendKey;

    internal ReadOnlySpan<byte> ReceiveKey => _receiveKey;

    /// <summary>
    /// Forgets the keys. A worker sealing with this keypair right now may finish its packet with
    /// zeroed key bytes; the peer rejects such a packet, which is the right outcome for a dead session.
    /// </summary>
    internal void Delete()
    {
        IsDeleted = true;
        CryptographicOperations.ZeroMemory(_sendKey);
        CryptographicOperations.ZeroMemory(_receiveKey);
    }
}
