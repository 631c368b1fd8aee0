using Org.BouncyCastle.Crypto.Digests;

namespace Trellis.Crypto;

/// <summary>
/// BLAKE2s (RFC 7693) as WireGuard uses it: a 32-byte hash, a keyed 16-byte MAC (the digest length
/// is in the parameter block, so this is not a truncated hash), and HMAC over BLAKE2s.
/// .NET has no BLAKE2s; BouncyCastle's is used. It runs per handshake, never per data packet.
/// </summary>
public static class Blake2s
{
    public const int HashSize = 32;
    public const int MacSize = 16;
    private const int BlockSize = 64;

    /// <summary>HASH(a || b || c) into 32 bytes.</summary>
    public static void Hash(Span<byte> output, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b = default, ReadOnlySpan<byte> c = default)
    {
        var d = new Blake2sDigest(HashSize * 8);
        d.BlockUpdate(a);
        d.BlockUpdate(b);
        d.BlockUpdate(c);
        d.DoFinal(output[..HashSize]);
    }

    /// <summary>Keyed BLAKE2s with a 16-byte digest: WireGuard's MAC(key, data).</summary>
    public static void Mac(Span<byte> output, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        var d = new Blake2sDigest(key.ToArray(), MacSize, null, null);
        d.BlockUpdate(data);
        d.DoFinal(output[..MacSize]);
    }

    /// <summary>HMAC-BLAKE2s(key, a || b) into 32 bytes (RFC 2104 construction, 64-byte block).</summary>
    public static void Hmac(Span<byte> output, ReadOnlySpan<byte> key, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b = default)
    {
        Span<byte> block = stackalloc byte[BlockSize];
        block.Clear();
        if (key.Length > BlockSize)
        {
            Hash(block, key);
        }
        else
        {
            key.CopyTo(block);
        }

        Span<byte> pad = stackalloc byte[BlockSize];
        for (var i = 0; i < BlockSize; i++)
        {
            pad[i] = (byte)(block[i] ^ 0x36);
        }

        Span<byte> inner = stackalloc byte[HashSize];
        var d = new Blake2sDigest(HashSize * 8);
        d.BlockUpdate(pad);
        d.BlockUpdate(a);
        d.BlockUpdate(b);
        d.DoFinal(inner);

        for (var i = 0; i < BlockSize; i++)
        {
            pad[i] = (byte)(block[i] ^ 0x5c);
        }

        d.Reset();
        d.BlockUpdate(pad);
        d.BlockUpdate(inner);
        d.DoFinal(output[..HashSize]);
        block.Clear();
        pad.Clear();
        inner.Clear();
    }
}
