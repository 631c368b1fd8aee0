using System.Security.Cryptography;

namespace Trellis.Crypto.Noise;

/// <summary>
/// Noise's CipherState: a key k (possibly empty) and a 64-bit nonce n. ChaChaPoly's nonce is 32 zero
/// bits then n little-endian, exactly <see cref="Aead"/>'s. Rekey is not offered: the control channel
/// runs a new handshake long before 2^64 messages.
/// </summary>
internal sealed class CipherState : IDisposable
{
    private readonly byte[] _key = new byte[NoiseConstants.HashLen];
    private bool _disposed;

    public bool HasKey { get; private set; }

    /// <summary>The nonce of the next message; settable by tests to reach the exhaustion guard.</summary>
    public ulong Nonce { get; internal set; }

    /// <summary>2^64-1 is reserved by the spec, so a state that reached it can carry no more messages.</summary>
    public bool IsExhausted => Nonce == ulong.MaxValue;

    public void InitializeKey(ReadOnlySpan<byte> key)
    {
        key[..NoiseConstants.HashLen].CopyTo(_key);
        HasKey = true;
        Nonce = 0;
    }

    /// <summary>Writes plaintext.Length (+ 16 with a key) bytes; throws once the nonce is exhausted.</summary>
    public void EncryptWithAd(ReadOnlySpan<byte> ad, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        // A disposed state has no key; without this check it would pass plaintext through.
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!HasKey)
        {
            plaintext.CopyTo(ciphertext);
            return;
        }

        if (IsExhausted)
        {
            throw new InvalidOperationException("the Noise nonce is exhausted; run a new handshake");
        }

        Aead.Seal(_key, Nonce, plaintext, ad, ciphertext);
        Nonce++;
    }

    /// <summary>Opens ciphertext into plaintext; false (nonce unchanged, output cleared) when it does not authenticate.</summary>
    public bool DecryptWithAd(ReadOnlySpan<byte> ad, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!HasKey)
        {
            ciphertext.CopyTo(plaintext);
            return true;
        }

        if (IsExhausted || ciphertext.Length < NoiseConstants.TagLen || !Aead.Open(_key, Nonce, ciphertext, ad, plaintext))
        {
            return false;
        }

        Nonce++;
        return true;
    }

    public void Dispose()
    {
        _disposed = true;
        CryptographicOperations.ZeroMemory(_key);
        HasKey = false;
    }
}
