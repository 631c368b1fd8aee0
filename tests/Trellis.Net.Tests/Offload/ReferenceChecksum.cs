using System.Buffers.Binary;

namespace Trellis.Net.Tests.Offload;

/// <summary>
/// The Internet checksum the slow, obvious way (big-endian 16-bit words, carries folded at the end),
/// and validity checks of IP/TCP/UDP headers built on it: the independent reference the offload code is checked against.
/// </summary>
internal static class ReferenceChecksum
{
    // 64 bits: a 32-bit sum overflows past 128 KiB of 0xffff words.
    public static ulong Sum(ReadOnlySpan<byte> data, ulong sum = 0)
    {
        for (var i = 0; i < data.Length; i += 2)
        {
            sum += (uint)(data[i] << 8) | (i + 1 < data.Length ? data[i + 1] : 0u);
        }

        return sum;
    }

    public static ushort Fold(ulong sum)
    {
        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)sum;
    }

    /// <summary>True when the IPv4 header's checksum is right.</summary>
    public static bool IPv4HeaderValid(ReadOnlySpan<byte> packet) => Fold(Sum(packet[..((packet[0] & 0xf) * 4)])) == 0xffff;

    /// <summary>True when the TCP or UDP checksum of the segment at <paramref name="transport"/> is right (UDP's 0 counts as wrong here).</summary>
    public static bool TransportValid(ReadOnlySpan<byte> packet, int transport, byte protocol)
    {
        var isIPv6 = packet[0] >> 4 == 6;
        var addresses = isIPv6 ? packet.Slice(8, 32) : packet.Slice(12, 8);
        var segment = packet[transport..];
        if (protocol == 17 && BinaryPrimitives.ReadUInt16BigEndian(segment[6..]) == 0)
        {
            return false;
        }

        var sum = Sum(addresses) + protocol + (uint)segment.Length;
        return Fold(Sum(segment, sum)) == 0xffff;
    }

    /// <summary>Writes the right checksum into a TCP or UDP segment (and the IPv4 header).</summary>
    public static void Fill(Span<byte> packet, int transport, byte protocol)
    {
        var isIPv6 = packet[0] >> 4 == 6;
        if (!isIPv6)
        {
            packet[10] = packet[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(packet[10..], (ushort)~Fold(Sum(packet[..((packet[0] & 0xf) * 4)])));
        }

        var at = transport + (protocol == 6 ? 16 : 6);
        packet[at] = packet[at + 1] = 0;
        var addresses = isIPv6 ? packet.Slice(8, 32) : packet.Slice(12, 8);
        var segment = packet[transport..];
        var value = (ushort)~Fold(Sum(segment, Sum(addresses) + protocol + (uint)segment.Length));
        BinaryPrimitives.WriteUInt16BigEndian(packet[at..], value == 0 ? (ushort)0xffff : value);
    }

    /// <summary>The pseudo-header sum, folded, not complemented: what a partial checksum field holds.</summary>
    public static ushort Pseudo(ReadOnlySpan<byte> packet, byte protocol, int transportLength)
    {
        var isIPv6 = packet[0] >> 4 == 6;
        var addresses = isIPv6 ? packet.Slice(8, 32) : packet.Slice(12, 8);
        return Fold(Sum(addresses) + protocol + (uint)transportLength);
    }
}
