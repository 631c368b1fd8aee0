using System.Buffers.Binary;
using Trellis.Core.Transport;

namespace Trellis.WireGuard;

/// <summary>The few IPv4/IPv6 header fields cryptokey routing needs, read without allocating.</summary>
internal static class IPPacket
{
    public const int IPv4HeaderMin = 20;
    public const int IPv6HeaderSize = 40;

    /// <summary>The destination address of an outgoing packet, or empty when the packet is not IP.</summary>
    public static ReadOnlySpan<byte> Destination(ReadOnlySpan<byte> packet)
    {
        if (packet.Length >= IPv4HeaderMin && packet[0] >> 4 == 4)
        {
            return packet.Slice(16, 4);
        }

        if (packet.Length >= IPv6HeaderSize && packet[0] >> 4 == 6)
        {
            return packet.Slice(24, 16);
        }

        return default;
    }

    /// <summary>
    /// The UDP source port of an outgoing packet, or 0 when it is not UDP (or not the first fragment).
    /// </summary>
    public static ushort UdpSourcePort(ReadOnlySpan<byte> packet)
    {
        var udp = UdpHeader(packet);
        return udp.IsEmpty ? (ushort)0 : BinaryPrimitives.ReadUInt16BigEndian(udp);
    }

    /// <summary>Whether an outgoing UDP packet is addressed to <paramref name="endpoint"/> (address and port).</summary>
    public static bool IsUdpTo(ReadOnlySpan<byte> packet, in Endpoint endpoint)
    {
        var udp = UdpHeader(packet);
        if (udp.IsEmpty || BinaryPrimitives.ReadUInt16BigEndian(udp[2..]) != endpoint.Port)
        {
            return false;
        }

        Span<byte> address = stackalloc byte[16];
        endpoint.WriteAddress16(address);
        var destination = Destination(packet);
        return destination.Length == 4 ? endpoint.IsIPv4 && destination.SequenceEqual(address[12..]) : destination.SequenceEqual(address);
    }

    /// <summary>The 8-byte UDP header of an IPv4 first fragment or an IPv6 packet without extension headers.</summary>
    private static ReadOnlySpan<byte> UdpHeader(ReadOnlySpan<byte> packet)
    {
        const int udpHeaderSize = 8;
        const byte udp = 17;
        if (packet.Length >= IPv4HeaderMin && packet[0] >> 4 == 4)
        {
            var headerLength = (packet[0] & 0xf) * 4;
            var fragmentOffset = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x1fff;
            return packet[9] == udp && fragmentOffset == 0 && headerLength >= IPv4HeaderMin && packet.Length >= headerLength + udpHeaderSize
                ? packet.Slice(headerLength, udpHeaderSize)
                : default;
        }

        if (packet.Length >= IPv6HeaderSize + udpHeaderSize && packet[0] >> 4 == 6 && packet[6] == udp)
        {
            return packet.Slice(IPv6HeaderSize, udpHeaderSize);
        }

        return default;
    }

    /// <summary>
    /// Validates a decrypted packet and returns its true length (the rest is padding) and source
    /// address; 0 when it is not a well-formed IP packet.
    /// </summary>
    public static int Validate(ReadOnlySpan<byte> packet, out ReadOnlySpan<byte> source)
    {
        source = default;
        if (packet.Length >= IPv4HeaderMin && packet[0] >> 4 == 4)
        {
            var total = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
            if (total < IPv4HeaderMin || total > packet.Length)
            {
                return 0;
            }

            source = packet.Slice(12, 4);
            return total;
        }

        if (packet.Length >= IPv6HeaderSize && packet[0] >> 4 == 6)
        {
            var total = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) + IPv6HeaderSize;
            if (total > packet.Length)
            {
                return 0;
            }

            source = packet.Slice(8, 16);
            return total;
        }

        return 0;
    }
}
