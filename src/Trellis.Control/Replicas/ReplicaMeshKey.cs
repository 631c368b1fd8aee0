using System.Security.Cryptography;
using Trellis.Core.Keys;

namespace Trellis.Control.Replicas;

/// <summary>
/// The mesh key the replicas' embedded relays present to each other when no <c>relay-mesh-key</c>
/// is configured: derived from the server key, which every replica must already share, so there is
/// nothing more to copy or set, and only a holder of the server key can mesh with them.
/// </summary>
internal static class ReplicaMeshKey
{
    private const int Length = 32;

    // A label of its own, so the derived secret is no other use of the server key.
    private static ReadOnlySpan<byte> Label => "trellis replica relay mesh key v1"u8;

    /// <summary>64 hex digits: HKDF-SHA256 of the server's private key under the label.</summary>
    public static string Derive(Key serverPrivateKey)
    {
        Span<byte> secret = stackalloc byte[Key.Size];
        Span<byte> derived = stackalloc byte[Length];
        try
        {
            serverPrivateKey.CopyTo(secret);
            HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, derived, salt: [], info: Label);
            return Convert.ToHexStringLower(derived);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            CryptographicOperations.ZeroMemory(derived);
        }
    }
}
