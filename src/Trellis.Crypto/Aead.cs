using System.Buffers.Binary;

namespace Trellis.Crypto;

/// <summary>
/// ChaCha20-Poly1305 with WireGuard's nonce (4 zero bytes then a 64-bit little-endian counter), for
/// handshakes and the control channel: this thread's <see cref="ChaChaPolyContext"/>, as the data path
/// uses, so a server sealing a message for each of thousands of nodes makes no cipher object for each.
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
        var ciphertext = output[..plaintext.Length];
        plaintext.CopyTo(ciphertext);
        ChaChaPolyContext.ForCurrentThread().Seal(key, counter, ciphertext, output.Slice(plaintext.Length, TagSize), associatedData);
    }

    /// <summary>Opens ciphertext || tag into <paramref name="plaintext"/>; false when authentication fails.</summary>
    public static bool Open(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        if (sealedData.Length < TagSize)
        {
            return false;
        }

        var n = sealedData.Length - TagSize;
        Span<byte> tag = stackalloc byte[TagSize];
        sealedData[n..].CopyTo(tag); // before the copy below, which may overlap it
        var opened = plaintext[..n];
        sealedData[..n].CopyTo(opened);
        if (!ChaChaPolyContext.ForCurrentThread().Open(key, counter, opened, tag, associatedData))
        {
            opened.Clear();
            return false;
        }

        return true;
    }
}
