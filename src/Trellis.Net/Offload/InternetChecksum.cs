using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Trellis.Net.Offload;

/// <summary>
/// The Internet checksum (RFC 1071) for IPv4 headers and TCP/UDP segments. Sums are kept unfolded in
/// the machine's byte order (the ones' complement sum does not depend on it) and converted once, at
/// <see cref="Fold"/>; every partial sum must start at an even offset of the checksummed data.
/// </summary>
internal static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> to <paramref name="sum"/>, 8 bytes at a time with end-around carry.</summary>
    public static ulong Add(ReadOnlySpan<byte> data, ulong sum = 0)
    {
        ref var start = ref MemoryMarshal.GetReference(data);
        var length = data.Length;
        var i = 0;
        for (; i + 32 <= length; i += 32)
        {
            sum = AddCarry(sum, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i)));
            sum = AddCarry(sum, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i + 8)));
            sum = AddCarry(sum, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i + 16)));
            sum = AddCarry(sum, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i + 24)));
        }

        for (; i + 8 <= length; i += 8)
        {
            sum = AddCarry(sum, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i)));
        }

        for (; i + 2 <= length; i += 2)
        {
            sum = AddCarry(sum, Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref start, i)));
        }

        if (i < length)
        {
            // The odd last byte is the high byte of a zero-padded big-endian word.
            sum = AddCarry(sum, Native((ushort)(Unsafe.Add(ref start, i) << 8)));
        }

        return sum;
    }

    /// <summary>Adds a 16-bit value given in host order (a length, a protocol number).</summary>
    public static ulong AddWord(ulong sum, ushort value) => AddCarry(sum, Native(value));

    /// <summary>The TCP/UDP pseudo-header sum: addresses, protocol and the transport length.</summary>
    public static ulong PseudoHeader(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int transportLength)
    {
        var sum = Add(source);
        sum = Add(destination, sum);
        sum = AddWord(sum, protocol);
        if (transportLength > ushort.MaxValue)
        {
            sum = AddWord(sum, (ushort)(transportLength >> 16));
        }

        return AddWord(sum, (ushort)transportLength);
    }

    /// <summary>Folds a sum to 16 bits, in host order (write it big-endian).</summary>
    public static ushort Fold(ulong sum)
    {
        sum = (sum & 0xffffffff) + (sum >> 32);
        sum = (sum & 0xffffffff) + (sum >> 32);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        return Native((ushort)sum);
    }

    /// <summary>The checksum field's value for data whose sum is <paramref name="sum"/> (field zeroed).</summary>
    public static ushort Complete(ulong sum) => (ushort)~Fold(sum);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong AddCarry(ulong sum, ulong value)
    {
        sum += value;
        return sum < value ? sum + 1 : sum;
    }

    // Swapping is its own inverse: it turns a big-endian word into the value a native load sees, and back.
    private static ushort Native(ushort value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;
}
