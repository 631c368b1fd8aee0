using NSec.Cryptography;

namespace Trellis.Crypto;

/// <summary>
/// XChaCha20-Poly1305 (24-byte nonce), which .NET lacks; libsodium's through NSec. WireGuard uses it
/// only for cookie replies.
/// </summary>
public static class XAead
{
    public const int NonceSize = 24;
    public const int TagSize = 16;

    private static readonly XChaCha20Poly1305 Algorithm = AeadAlgorithm.XChaCha20Poly1305;

    public static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        using var k = NSec.Cryptography.Key.Import(Algorithm, key, KeyBlobFormat.RawSymmetricKey);
        Algorithm.Encrypt(k, nonce24, associatedData, plaintext, output[..(plaintext.Length + TagSize)]);
    }

    public static bool Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        if (sealedData.Length < TagSize)
        {
            return false;
        }

        using var k = NSec.Cryptography.Key.Import(Algorithm, key, KeyBlobFormat.RawSymmetricKey);
        return Algorithm.Decrypt(k, nonce24, associatedData, sealedData, plaintext[..(sealedData.Length - TagSize)]);
    }
}
