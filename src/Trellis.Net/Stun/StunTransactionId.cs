using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace Trellis.Net.Stun;

/// <summary>The 96-bit transaction id that pairs a response with its request, held as a value.</summary>
public readonly struct StunTransactionId : IEquatable<StunTransactionId>
{
    public const int Length = 12;

    private readonly ulong _high;
    private readonly uint _low;

    private StunTransactionId(ulong high, uint low)
    {
        _high = high;
        _low = low;
    }

    /// <summary>A fresh random id; RFC 8489 asks for one that cannot be guessed, so it comes from the system's CSPRNG.</summary>
    public static StunTransactionId NewRandom()
    {
        Span<byte> bytes = stackalloc byte[Length];
        RandomNumberGenerator.Fill(bytes);
        return FromBytes(bytes);
    }

    /// <summary>Reads the id from exactly <see cref="Length"/> bytes.</summary>
    public static StunTransactionId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"a STUN transaction id is {Length} bytes", nameof(bytes));
        }

        return new StunTransactionId(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]));
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], _low);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{_high:x16}{_low:x8}");

    public bool Equals(StunTransactionId other) => _high == other._high && _low == other._low;

    public override bool Equals(object? obj) => obj is StunTransactionId other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low);

    public static bool operator ==(StunTransactionId left, StunTransactionId right) => left.Equals(right);

    public static bool operator !=(StunTransactionId left, StunTransactionId right) => !left.Equals(right);
}
