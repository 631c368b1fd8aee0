namespace Trellis.Crypto.Noise;

/// <summary>
/// The two CipherStates a finished IK handshake splits into. Messages run in order over a reliable
/// stream, so each must carry exactly the next nonce: a forged, truncated, replayed or reordered
/// ciphertext fails to authenticate and <see cref="TryDecrypt(ReadOnlySpan{byte}, out byte[])"/>
/// returns false (the receive counter is unchanged; the caller should close the stream). One thread
/// may send while another receives; each direction is single-threaded.
/// </summary>
public sealed class NoiseTransport : IDisposable
{
    private readonly CipherState _send;
    private readonly CipherState _receive;
    private readonly byte[] _handshakeHash;

    internal NoiseTransport(CipherState send, CipherState receive, byte[] handshakeHash)
    {
        _send = send;
        _receive = receive;
        _handshakeHash = handshakeHash;
    }

    /// <summary>The final handshake hash h, identical on both sides: a channel binding.</summary>
    public ReadOnlySpan<byte> HandshakeHash => _handshakeHash;

    /// <summary>Messages encrypted so far, which is the nonce of the next.</summary>
    public ulong SendCounter => _send.Nonce;

    /// <summary>Messages decrypted so far, which is the nonce the next must carry.</summary>
    public ulong ReceiveCounter => _receive.Nonce;

    /// <summary>Encrypts one message (at most 65519 bytes of plaintext, so the message fits Noise's 65535).</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext)
    {
        var ciphertext = new byte[CheckedCiphertextLength(plaintext.Length)];
        Encrypt(plaintext, ciphertext);
        return ciphertext;
    }

    /// <summary>Encrypts into <paramref name="ciphertext"/> and returns the bytes written (plaintext + 16).</summary>
    public int Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        var length = CheckedCiphertextLength(plaintext.Length);
        if (ciphertext.Length < length)
        {
            throw new ArgumentException($"the ciphertext buffer holds {ciphertext.Length} bytes; {length} are needed", nameof(ciphertext));
        }

        _send.EncryptWithAd(ReadOnlySpan<byte>.Empty, plaintext, ciphertext);
        return length;
    }

    /// <summary>Decrypts the next message; false for anything that is not exactly it.</summary>
    public bool TryDecrypt(ReadOnlySpan<byte> ciphertext, out byte[] plaintext)
    {
        plaintext = [];
        if (ciphertext.Length < NoiseConstants.TagLen || ciphertext.Length > NoiseConstants.MaxMessageLength)
        {
            return false;
        }

        var buffer = new byte[ciphertext.Length - NoiseConstants.TagLen];
        if (!TryDecrypt(ciphertext, buffer, out _))
        {
            return false;
        }

        plaintext = buffer;
        return true;
    }

    /// <summary>
    /// Decrypts the next message into <paramref name="plaintext"/> (which must hold ciphertext - 16
    /// bytes; it is cleared on failure); false for anything that is not exactly the next message.
    /// </summary>
    public bool TryDecrypt(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext, out int written)
    {
        written = 0;
        if (ciphertext.Length < NoiseConstants.TagLen || ciphertext.Length > NoiseConstants.MaxMessageLength)
        {
            return false;
        }

        var length = ciphertext.Length - NoiseConstants.TagLen;
        if (plaintext.Length < length)
        {
            throw new ArgumentException($"the plaintext buffer holds {plaintext.Length} bytes; {length} are needed", nameof(plaintext));
        }

        if (!_receive.DecryptWithAd(ReadOnlySpan<byte>.Empty, ciphertext, plaintext))
        {
            return false;
        }

        written = length;
        return true;
    }

    private static int CheckedCiphertextLength(int plaintextLength)
    {
        if (plaintextLength > NoiseConstants.MaxTransportPlaintextLength)
        {
            throw new ArgumentException(
                $"a Noise transport message carries at most {NoiseConstants.MaxTransportPlaintextLength} bytes of plaintext " +
                $"(65535 with the tag), got {plaintextLength}; split it into several messages",
                "plaintext");
        }

        return plaintextLength + NoiseConstants.TagLen;
    }

    /// <summary>Erases both keys; the transport cannot be used afterwards.</summary>
    public void Dispose()
    {
        _send.Dispose();
        _receive.Dispose();
    }
}
