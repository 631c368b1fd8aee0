using System.Buffers.Binary;
using System.Net;

namespace Trellis.Net.Tests;

/// <summary>Just enough IPv4/IPv6/ICMP to build an echo request and to recognise packets read from a TUN.</summary>
internal static class IPPackets
{
    public const byte Icmp = 1;
    public const byte Udp = 17;
    public const byte EchoReply = 0;
    public const byte EchoRequest = 8;

    public static int Version(ReadOnlySpan<byte> packet) => packet.Length == 0 ? 0 : packet[0] >> 4;

    public static byte Protocol(ReadOnlySpan<byte> packet) => Version(packet) == 6 ? packet[6] : packet[9];

    public static IPAddress Source(ReadOnlySpan<byte> packet) =>
        Version(packet) == 6 ? new IPAddress(packet.Slice(8, 16)) : new IPAddress(packet.Slice(12, 4));

    public static IPAddress Destination(ReadOnlySpan<byte> packet) =>
        Version(packet) == 6 ? new IPAddress(packet.Slice(24, 16)) : new IPAddress(packet.Slice(16, 4));

    /// <summary>The layer-4 header and payload (no IPv6 extension headers expected here).</summary>
    public static ReadOnlySpan<byte> Transport(ReadOnlySpan<byte> packet) =>
        Version(packet) == 6 ? packet[40..] : packet[((packet[0] & 0xf) * 4)..];

    /// <summary>Writes an IPv4 ICMP echo request/reply into <paramref name="destination"/>; returns its length.</summary>
    public static int WriteIcmpEcho(Span<byte> destination, IPAddress source, IPAddress target, byte type, ushort id, ushort sequence, ReadOnlySpan<byte> payload)
    {
        var length = 20 + 8 + payload.Length;
        var p = destination[..length];
        p.Clear();
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p[2..], (ushort)length);
        p[8] = 64; // TTL
        p[9] = Icmp;
        source.TryWriteBytes(p.Slice(12, 4), out _);
        target.TryWriteBytes(p.Slice(16, 4), out _);
        BinaryPrimitives.WriteUInt16BigEndian(p[10..], Checksum(p[..20]));

        var icmp = p[20..];
        icmp[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], id);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], sequence);
        payload.CopyTo(icmp[8..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Checksum(icmp));
        return length;
    }

    /// <summary>True for an IPv4 ICMP echo reply with this id and sequence.</summary>
    public static bool IsEchoReply(ReadOnlySpan<byte> packet, ushort id, ushort sequence)
    {
        if (Version(packet) != 4 || packet.Length < 28 || Protocol(packet) != Icmp)
        {
            return false;
        }

        var icmp = Transport(packet);
        return icmp[0] == EchoReply
            && BinaryPrimitives.ReadUInt16BigEndian(icmp[4..]) == id
            && BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]) == sequence;
    }

    /// <summary>The Internet checksum (RFC 1071); 0 over data that already holds a correct checksum.</summary>
    public static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        var i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }

        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
