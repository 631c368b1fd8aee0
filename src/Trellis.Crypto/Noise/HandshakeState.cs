using System.Security.Cryptography;
using Trellis.Core.Keys;

namespace Trellis.Crypto.Noise;

/// <summary>
/// Noise's HandshakeState for IK (&lt;- s; ...; -> e, es, s, ss; &lt;- e, ee, se): the key pairs and the
/// token operations. <see cref="NoiseIKInitiator"/> and <see cref="NoiseIKResponder"/> sequence the
/// tokens of each message. Private keys live in fields so that <see cref="Dispose"/> can overwrite them.
/// </summary>
internal sealed class HandshakeState : IDisposable
{
    private readonly SymmetricState _symmetric = new(NoiseConstants.ProtocolName);

    private Key _s;
    private Key _e;

    /// <summary>Initialize for IK: MixHash(prologue), then the pre-message "&lt;- s" (the responder's static public key).</summary>
    public HandshakeState(Key localStaticPrivate, Key? remoteStaticPublic, Key? ephemeralPrivate, ReadOnlySpan<byte> prologue)
    {
        _s = localStaticPrivate;
        _e = ephemeralPrivate ?? X25519.GeneratePrivateKey();
        LocalStaticPublic = X25519.PublicKey(_s);
        LocalEphemeralPublic = X25519.PublicKey(_e);
        _symmetric.MixHash(prologue);

        Span<byte> responderStatic = stackalloc byte[NoiseConstants.DhLen];
        if (remoteStaticPublic is { } rs)
        {
            RemoteStatic = rs;
            rs.CopyTo(responderStatic);
        }
        else
        {
            LocalStaticPublic.CopyTo(responderStatic);
        }

        _symmetric.MixHash(responderStatic);
    }

    public Key LocalStaticPublic { get; }

    public Key LocalEphemeralPublic { get; }

    public Key RemoteStatic { get; private set; }

    public Key RemoteEphemeral { get; private set; }

    /// <summary>Token "e" when writing: the ephemeral public key in clear, mixed into h.</summary>
    public int WriteEphemeral(Span<byte> message)
    {
        LocalEphemeralPublic.CopyTo(message);
        _symmetric.MixHash(message[..NoiseConstants.DhLen]);
        return NoiseConstants.DhLen;
    }

    /// <summary>Token "e" when reading (the caller has checked the length).</summary>
    public int ReadEphemeral(ReadOnlySpan<byte> message)
    {
        RemoteEphemeral = new Key(message[..NoiseConstants.DhLen]);
        _symmetric.MixHash(message[..NoiseConstants.DhLen]);
        return NoiseConstants.DhLen;
    }

    /// <summary>Token "s" when writing: the static public key, encrypted under the key so far.</summary>
    public int WriteStatic(Span<byte> message)
    {
        Span<byte> s = stackalloc byte[NoiseConstants.DhLen];
        LocalStaticPublic.CopyTo(s);
        return _symmetric.EncryptAndHash(s, message);
    }

    /// <summary>Token "s" when reading: decrypts the peer's static public key.</summary>
    public int ReadStatic(ReadOnlySpan<byte> message)
    {
        var length = NoiseConstants.DhLen + NoiseConstants.TagLen;
        Span<byte> s = stackalloc byte[NoiseConstants.DhLen];
        if (!_symmetric.DecryptAndHash(message[..length], s))
        {
            throw new NoiseHandshakeException("the initiator's static key did not authenticate (wrong responder key, prologue or a tampered message)");
        }

        RemoteStatic = new Key(s);
        return length;
    }

    /// <summary>The DH tokens: MixKey(DH(local private, remote public)); an all-zero result (low-order key) aborts.</summary>
    public void MixDh(bool localStatic, bool remoteStatic)
    {
        // By reference, so no stray copy of a private key is left on the stack.
        ref readonly var local = ref localStatic ? ref _s : ref _e;
        Span<byte> shared = stackalloc byte[NoiseConstants.DhLen];
        try
        {
            if (!X25519.SharedSecret(local, remoteStatic ? RemoteStatic : RemoteEphemeral, shared))
            {
                throw new NoiseHandshakeException($"the {(remoteStatic ? "static" : "ephemeral")} public key of the peer is a low-order point");
            }

            _symmetric.MixKey(shared);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    public int WritePayload(ReadOnlySpan<byte> payload, Span<byte> message) => _symmetric.EncryptAndHash(payload, message);

    /// <summary>Decrypts the rest of the message as the payload.</summary>
    public byte[] ReadPayload(ReadOnlySpan<byte> message)
    {
        var payload = new byte[message.Length - NoiseConstants.TagLen];
        if (!_symmetric.DecryptAndHash(message, payload))
        {
            throw new NoiseHandshakeException("the handshake payload did not authenticate (a tampered message or the wrong keys)");
        }

        return payload;
    }

    /// <summary>Ends the handshake: the two transport ciphers and h, then the handshake secrets are erased.</summary>
    public NoiseTransport Split(bool initiator)
    {
        var (initiatorToResponder, responderToInitiator) = _symmetric.Split();
        var hash = _symmetric.HandshakeHash.ToArray();
        return initiator
            ? new NoiseTransport(initiatorToResponder, responderToInitiator, hash)
            : new NoiseTransport(responderToInitiator, initiatorToResponder, hash);
    }

    public void Dispose()
    {
        _s = default;
        _e = default;
        _symmetric.Dispose();
    }
}
