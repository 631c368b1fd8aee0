using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Trellis.Control.Store;

/// <summary>
/// Keys handed to people: "trellis-{kind}-{prefix}-{secret}". The prefix (12 base32 characters)
/// is public and finds the row; the secret (32 random bytes in base32) is only ever stored as its
/// SHA-256 and checked with a constant-time comparison, so timing reveals nothing about it.
/// </summary>
public static class SecretKeys
{
    public const string AuthKind = "auth";
    public const string ApiKind = "api";
    public const int PrefixLength = 12;
    public const int SecretBytes = 32;

    /// <summary>Base32 characters for 32 bytes (256 bits, 5 bits per character, no padding).</summary>
    public const int SecretLength = (SecretBytes * 8 + 4) / 5;

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>A fresh key of the given kind: the plaintext to show once, and what to store.</summary>
    public static (string Prefix, byte[] SecretHash, string Plaintext) Issue(string kind)
    {
        var prefix = RandomNumberGenerator.GetString(Alphabet, PrefixLength);
        var secret = Base32(RandomNumberGenerator.GetBytes(SecretBytes));
        return (prefix, Hash(secret), $"trellis-{kind}-{prefix}-{secret}");
    }

    /// <summary>Splits a key of the given kind into prefix and secret; false for anything malformed.</summary>
    public static bool TryParse(string? text, string kind, [NotNullWhen(true)] out string? prefix, [NotNullWhen(true)] out string? secret)
    {
        prefix = secret = null;
        var head = $"trellis-{kind}-";
        if (text is null || text.Length != head.Length + PrefixLength + 1 + SecretLength
            || !text.StartsWith(head, StringComparison.Ordinal) || text[head.Length + PrefixLength] != '-')
        {
            return false;
        }

        var p = text.AsSpan(head.Length, PrefixLength);
        var s = text.AsSpan(head.Length + PrefixLength + 1);
        if (p.ContainsAnyExcept(Alphabet) || s.ContainsAnyExcept(Alphabet))
        {
            return false;
        }

        prefix = p.ToString();
        secret = s.ToString();
        return true;
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.ASCII.GetBytes(secret));

    /// <summary>Constant-time check of a presented secret against the stored hash.</summary>
    public static bool Matches(string secret, byte[] storedHash)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.ASCII.GetBytes(secret), hash);
        return CryptographicOperations.FixedTimeEquals(hash, storedHash);
    }

    private static string Base32(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder((bytes.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                sb.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            sb.Append(Alphabet[(buffer << (5 - bits)) & 31]);
        }

        return sb.ToString();
    }
}
