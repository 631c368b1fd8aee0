using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Trellis.Discovery.Messages;

/// <summary>A ping's 12-byte transaction id, as a value (pending pings are looked up by it).</summary>
public readonly record struct DiscoTxId(ulong High, uint Low)
{
    public const int Size = 12;

    public static DiscoTxId New()
    {
        Span<byte> b = stackalloc byte[Size];
        RandomNumberGenerator.Fill(b);
        return Read(b);
    }

    public static DiscoTxId Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(source), BinaryPrimitives.ReadUInt32BigEndian(source[8..]));

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Low);
    }
}
