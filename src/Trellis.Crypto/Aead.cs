using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Trellis.Crypto;

/// <summary>
/// ChaCha20-Poly1305 with WireGuard's nonce (4 zero bytes then a 64-bit little-endian counter), for
/// the handshake's one-shot seals. The data path keeps one cipher per keypair instead (see WireGuard).
/// </summary>
public static class Aead
{
    public const int TagSize = 16;

    public static void WriteNonce(Span<byte> nonce12, ulong counter)
    {
        nonce12[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce12[4..], counter);
    }

    /// <summary>Writes ciphertext || tag (plaintext.Length + 16 bytes) into <paramref name="output"/>.</summary>
    public static void Seal(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        Span<byte> nonce = stackalloc byte[12];
        WriteNonce(nonce, counter);
        using var c = new ChaCha20Poly1305(key);
        c.Encrypt(nonce, plaintext, output[..plaintext.Length], output.Slice(plaintext.Length, TagSize), associatedData);
    }

    /// <summary>Opens ciphertext || tag into <paramref name="plaintext"/>; false when authentication fails.</summary>
    public static bool Open(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        if (sealedData.Length < TagSize)
        {
            return false;
        }

        Span<byte> nonce = stackalloc byte[12];
        WriteNonce(nonce, counter);
        using var c = new ChaCha20Poly1305(key);
        var n = sealedData.Length - TagSize;
        try
        {
            c.Decrypt(nonce, sealedData[..n], sealedData[n..], plaintext[..n], associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            plaintext[..n].Clear();
            return false;
        }
    }
}
