using System.Buffers.Binary;

namespace Trellis.WireGuard;

/// <summary>
/// The 12-byte TAI64N timestamp carried in initiations: big-endian 2^62 + 10 + Unix seconds, then
/// nanoseconds. Nanoseconds are rounded down to a multiple of 2^24 (as wireguard-go does) so the
/// timestamp does not leak a precise clock.
/// </summary>
public static class Tai64n
{
    public const int Size = 12;
    private const ulong Base = 0x400000000000000AUL;
    private const uint Whitener = 0x1000000; // 2^24 ns, about 16.8 ms

    public static void Write(Span<byte> destination, DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var seconds = (ulong)(ticks / TimeSpan.TicksPerSecond);
        var nanos = (uint)(ticks % TimeSpan.TicksPerSecond * 100);
        nanos -= nanos % Whitener;
        BinaryPrimitives.WriteUInt64BigEndian(destination, Base + seconds);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], nanos);
    }

    /// <summary>Lexicographic order of the big-endian bytes is chronological order.</summary>
    public static bool After(ReadOnlySpan<byte> candidate, ReadOnlySpan<byte> reference) => candidate[..Size].SequenceCompareTo(reference[..Size]) > 0;
}
