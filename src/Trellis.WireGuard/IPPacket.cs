using System.Buffers.Binary;

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
