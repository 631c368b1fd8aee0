using System.Security.Cryptography;
using Trellis.Core.Keys;
using Bc = Org.BouncyCastle.Math.EC.Rfc7748;

namespace Trellis.Crypto;

/// <summary>X25519 (RFC 7748) on raw 32-byte keys, BouncyCastle's constant-time implementation.</summary>
public static class X25519
{
    public const int KeySize = 32;

    /// <summary>A new clamped private key from the system CSPRNG.</summary>
    public static Key GeneratePrivateKey()
    {
        Span<byte> k = stackalloc byte[KeySize];
        RandomNumberGenerator.Fill(k);
        Clamp(k);
        var key = new Key(k);
        k.Clear();
        return key;
    }

    public static void Clamp(Span<byte> k)
    {
        k[0] &= 248;
        k[31] = (byte)((k[31] & 127) | 64);
    }

    public static Key PublicKey(in Key privateKey)
    {
        Span<byte> priv = stackalloc byte[KeySize];
        Span<byte> pub = stackalloc byte[KeySize];
        privateKey.CopyTo(priv);
        Bc.X25519.ScalarMultBase(priv, pub);
        priv.Clear();
        return new Key(pub);
    }

    /// <summary>DH(private, public); false when the result is all zeros (a low-order public key).</summary>
    public static bool SharedSecret(in Key privateKey, in Key publicKey, Span<byte> shared)
    {
        Span<byte> priv = stackalloc byte[KeySize];
        Span<byte> pub = stackalloc byte[KeySize];
        privateKey.CopyTo(priv);
        publicKey.CopyTo(pub);
        Bc.X25519.ScalarMult(priv, pub, shared[..KeySize]);
        priv.Clear();
        Span<byte> zero = stackalloc byte[KeySize];
        zero.Clear();
        return !CryptographicOperations.FixedTimeEquals(shared[..KeySize], zero);
    }
}
