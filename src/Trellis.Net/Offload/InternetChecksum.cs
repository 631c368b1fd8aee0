using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Trellis.Net.Offload;

/// <summary>
/// The Internet checksum (RFC 1071) for IPv4 headers and TCP/UDP segments. Sums are kept unfolded in
/// the machine's byte order (the ones' complement sum does not depend on it) and converted once, at
/// <see cref="Fold"/>; every partial sum must start at an even offset of the checksummed data.
/// </summary>
internal static class InternetChecksum
{
    // Below this the vector loop's set-up and final reduction cost more than they save.
    private const int VectorThreshold = 128;

    // 16-bit words a 32-bit lane can take before it may overflow (65,537 x 0xffff < 2^32), in bytes of Vector256 blocks.
    private const int VectorChunk = 65536 * 32;

    /// <summary>
    /// Adds <paramref name="data"/> to <paramref name="sum"/>: with vectors, each 32-bit lane's
    /// two 16-bit words summed apart into wide lanes (no carries to chase), else 8 bytes at a time with
    /// end-around carry. The TUN reader checksums every segment it cuts from a super-packet, and the
    /// carry chain did 8 bytes a cycle at best: it was the reader's largest cost in a perf profile.
    /// </summary>
    public static ulong Add(ReadOnlySpan<byte> data, ulong sum = 0)
    {
        // NativeAOT's default target (and a machine without AVX2) has no fast 256-bit vectors; every
        // x64 and arm64 machine has 128-bit ones.
        if (data.Length >= VectorThreshold && (Vector256.IsHardwareAccelerated || Vector128.IsHardwareAccelerated))
        {
            var whole = data.Length & ~31;
            for (var at = 0; at < whole; at += VectorChunk)
            {
                var chunk = data.Slice(at, Math.Min(VectorChunk, whole - at));
                sum = AddCarry(sum, Vector256.IsHardwareAccelerated ? AddVectors256(chunk) : AddVectors128(chunk));
            }

            data = data[whole..];
        }

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

    /// <summary>The sum of the native 16-bit words of <paramref name="data"/> (a multiple of 32 bytes, at most <see cref="VectorChunk"/>).</summary>
    internal static ulong AddVectors256(ReadOnlySpan<byte> data)
    {
        ref var start = ref MemoryMarshal.GetReference(data);
        var mask = Vector256.Create(0xffffu);
        Vector256<uint> low0 = default, high0 = default, low1 = default, high1 = default;
        var i = 0;
        for (; i + 64 <= data.Length; i += 64)
        {
            var a = Vector256.LoadUnsafe(ref start, (nuint)i).AsUInt32();
            var b = Vector256.LoadUnsafe(ref start, (nuint)(i + 32)).AsUInt32();
            low0 += a & mask;
            high0 += a >>> 16;
            low1 += b & mask;
            high1 += b >>> 16;
        }

        if (i < data.Length)
        {
            var a = Vector256.LoadUnsafe(ref start, (nuint)i).AsUInt32();
            low0 += a & mask;
            high0 += a >>> 16;
        }

        // Widened before adding across lanes: each lane may hold almost 2^32.
        var (w0, w1) = Vector256.Widen(low0);
        var (w2, w3) = Vector256.Widen(high0);
        var (w4, w5) = Vector256.Widen(low1);
        var (w6, w7) = Vector256.Widen(high1);
        return Vector256.Sum(w0 + w1 + w2 + w3 + w4 + w5 + w6 + w7);
    }

    /// <summary><see cref="AddVectors256"/> with 128-bit vectors, 32 bytes a step.</summary>
    internal static ulong AddVectors128(ReadOnlySpan<byte> data)
    {
        ref var start = ref MemoryMarshal.GetReference(data);
        var mask = Vector128.Create(0xffffu);
        Vector128<uint> low0 = default, high0 = default, low1 = default, high1 = default;
        for (var i = 0; i < data.Length; i += 32)
        {
            var a = Vector128.LoadUnsafe(ref start, (nuint)i).AsUInt32();
            var b = Vector128.LoadUnsafe(ref start, (nuint)(i + 16)).AsUInt32();
            low0 += a & mask;
            high0 += a >>> 16;
            low1 += b & mask;
            high1 += b >>> 16;
        }

        var (w0, w1) = Vector128.Widen(low0);
        var (w2, w3) = Vector128.Widen(high0);
        var (w4, w5) = Vector128.Widen(low1);
        var (w6, w7) = Vector128.Widen(high1);
        return Vector128.Sum(w0 + w1 + w2 + w3 + w4 + w5 + w6 + w7);
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
