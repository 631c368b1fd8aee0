using System.Security.Cryptography;
using Trellis.Core.Keys;

namespace Trellis.WireGuard;

internal enum HandshakeState
{
    Zeroed,
    InitiationCreated,
    InitiationConsumed,
    ResponseCreated,
    ResponseConsumed,
}

/// <summary>One peer's Noise IKpsk2 state between messages. Guarded by <see cref="SyncRoot"/>.</summary>
internal sealed class Handshake
{
    public Lock SyncRoot { get; } = new();

    // all below guarded by SyncRoot
    public HandshakeState State;
    public readonly byte[] Hash = new byte[32];
    public readonly byte[] ChainKey = new byte[32];
    public Key LocalEphemeral;
    public Key RemoteEphemeral;
    public uint LocalIndex;
    public uint RemoteIndex;
    public readonly byte[] LastTimestamp = new byte[Tai64n.Size];

    /// <summary>TimeProvider timestamp of the last accepted initiation (flood limit); null before any.</summary>
    public long? LastInitiationConsumed;

    /// <summary>TimeProvider timestamp of the last initiation or response sent; null before any.</summary>
    public long? LastSentHandshake;

    public void ClearLocked()
    {
        State = HandshakeState.Zeroed;
        CryptographicOperations.ZeroMemory(Hash);
        CryptographicOperations.ZeroMemory(ChainKey);
        LocalEphemeral = default;
        RemoteEphemeral = default;
        LocalIndex = 0;
    }
}
