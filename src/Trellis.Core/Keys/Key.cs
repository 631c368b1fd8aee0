using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Trellis.Core.Keys;

/// <summary>
/// A 32-byte key (X25519 public or private key, or a preshared key), held inline so that
/// keys can be compared and used as dictionary keys without allocating.
/// Text forms: lowercase hex (the WireGuard configuration protocol) and base64 (wg(8), configs).
/// </summary>
public readonly struct Key : IEquatable<Key>
{
    public const int Size = 32;

    private readonly Bytes32 _bytes;

    public Key(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"a key is {Size} bytes, got {bytes.Length}", nameof(bytes));
        }

        bytes.CopyTo(_bytes);
    }

    public static Key Zero => default;

    /// <summary>The bytes as a new array (for code outside the data path).</summary>
    public byte[] ToArray() => ((ReadOnlySpan<byte>)_bytes).ToArray();

    public bool IsZero
    {
        get
        {
            ReadOnlySpan<byte> zero = stackalloc byte[Size];
            return CryptographicOperations.FixedTimeEquals(_bytes, zero);
        }
    }

    public void CopyTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_bytes).CopyTo(destination);

    public string ToHex() => Convert.ToHexStringLower(_bytes);

    public string ToBase64() => Convert.ToBase64String(_bytes);

    public override string ToString() => ToBase64();

    public static Key FromHex(string hex)
    {
        if (!TryParseHex(hex, out var key))
        {
            throw new FormatException("a key in hex is 64 hexadecimal digits");
        }

        return key;
    }

    public static bool TryParseHex(ReadOnlySpan<char> hex, out Key key)
    {
        key = default;
        if (hex.Length != Size * 2)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Size)
        {
            return false;
        }

        key = new Key(bytes);
        return true;
    }

    public static Key FromBase64(string text)
    {
        if (!TryParseBase64(text, out var key))
        {
            throw new FormatException("a key in base64 is 44 characters encoding 32 bytes");
        }

        return key;
    }

    public static bool TryParseBase64(ReadOnlySpan<char> text, out Key key)
    {
        key = default;
        Span<byte> bytes = stackalloc byte[Size + 3];
        if (text.Length != 44 || !Convert.TryFromBase64Chars(text, bytes, out var written) || written != Size)
        {
            return false;
        }

        key = new Key(bytes[..Size]);
        return true;
    }

    /// <summary>Constant-time comparison: keys are secrets as often as not.</summary>
    public bool Equals(Key other) => CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);

    public override bool Equals(object? obj) => obj is Key other && Equals(other);

    public override int GetHashCode()
    {
        ReadOnlySpan<byte> b = _bytes;
        return HashCode.Combine(
            BitConverter.ToInt64(b[..8]), BitConverter.ToInt64(b[8..16]),
            BitConverter.ToInt64(b[16..24]), BitConverter.ToInt64(b[24..]));
    }

    public static bool operator ==(Key left, Key right) => left.Equals(right);

    public static bool operator !=(Key left, Key right) => !left.Equals(right);

    [InlineArray(Size)]
    private struct Bytes32
    {
        private byte _element0;
    }
}
