using System.Security.Cryptography;
using System.Text;

namespace Trellis.Crypto.Noise;

/// <summary>
/// Noise's SymmetricState: the chaining key ck, the handshake hash h and a CipherState. HKDF is the
/// WireGuard paper's KDF (<see cref="Kdf"/>), which is Noise's HKDF over HMAC-BLAKE2s.
/// </summary>
internal sealed class SymmetricState : IDisposable
{
    private readonly byte[] _ck = new byte[NoiseConstants.HashLen];
    private readonly byte[] _h = new byte[NoiseConstants.HashLen];
    private readonly CipherState _cipher = new();

    /// <summary>InitializeSymmetric: h is the name zero-padded when it fits in HASHLEN, else HASH(name); ck = h.</summary>
    public SymmetricState(string protocolName)
    {
        var name = Encoding.ASCII.GetBytes(protocolName);
        if (name.Length <= NoiseConstants.HashLen)
        {
            name.CopyTo(_h, 0);
        }
        else
        {
            Blake2s.Hash(_h, name);
        }

        _h.CopyTo(_ck, 0);
    }

    public ReadOnlySpan<byte> HandshakeHash => _h;

    public bool HasKey => _cipher.HasKey;

    public void MixKey(ReadOnlySpan<byte> inputKeyMaterial)
    {
        Span<byte> tempK = stackalloc byte[NoiseConstants.HashLen];
        Kdf.Derive(_ck, inputKeyMaterial, _ck, tempK);
        _cipher.InitializeKey(tempK);
        CryptographicOperations.ZeroMemory(tempK);
    }

    public void MixHash(ReadOnlySpan<byte> data) => Blake2s.Hash(_h, _h, data);

    /// <summary>Writes the ciphertext (plaintext.Length + 16 once keyed) and returns its length.</summary>
    public int EncryptAndHash(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        var length = plaintext.Length + (HasKey ? NoiseConstants.TagLen : 0);
        _cipher.EncryptWithAd(_h, plaintext, ciphertext);
        MixHash(ciphertext[..length]);
        return length;
    }

    /// <summary>Opens ciphertext into plaintext; false when it does not authenticate (h is then unchanged).</summary>
    public bool DecryptAndHash(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        if (!_cipher.DecryptWithAd(_h, ciphertext, plaintext))
        {
            return false;
        }

        MixHash(ciphertext);
        return true;
    }

    /// <summary>The two transport CipherStates: the first for initiator to responder, the second for the reverse.</summary>
    public (CipherState InitiatorToResponder, CipherState ResponderToInitiator) Split()
    {
        Span<byte> k1 = stackalloc byte[NoiseConstants.HashLen];
        Span<byte> k2 = stackalloc byte[NoiseConstants.HashLen];
        Kdf.Derive(_ck, ReadOnlySpan<byte>.Empty, k1, k2);
        var c1 = new CipherState();
        var c2 = new CipherState();
        c1.InitializeKey(k1);
        c2.InitializeKey(k2);
        CryptographicOperations.ZeroMemory(k1);
        CryptographicOperations.ZeroMemory(k2);
        return (c1, c2);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_ck);
        _cipher.Dispose();
    }
}
