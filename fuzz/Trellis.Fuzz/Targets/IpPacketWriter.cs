using System.Buffers.Binary;
using System.Net;

namespace Trellis.Fuzz.Targets;

/// <summary>
/// IPv4 and IPv6 packets laid out as a host's stack sends them (header checksums, TTL, a SYN's
/// options), for the packet filter's flows and seeds. Transport checksums are left zero: the filter
/// never reads them.
/// </summary>
public static class IpPacketWriter
{
    public const byte TcpSyn = 0x02;
    public const byte TcpAck = 0x10;

    private const int IPv4HeaderSize = 20;
    private const int IPv6HeaderSize = 40;
    private const byte DefaultTtl = 64;
    private const ushort DontFragment = 0x4000;
    private const ushort MoreFragments = 0x2000;

    // MSS 1380, SACK permitted, timestamps, NOP, window scale 7: what Linux puts in a SYN (20 bytes).
    private static readonly byte[] SynOptions = [2, 4, 0x05, 0x64, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];

    /// <summary>An IPv4 packet; <paramref name="fragmentOffsetBlocks"/> other than 0 makes it a later fragment.</summary>
    public static byte[] V4(string source, string destination, int protocol, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> options = default, int fragmentOffsetBlocks = 0)
    {
        var headerLength = IPv4HeaderSize + options.Length;
        var packet = new byte[headerLength + payload.Length];
        packet[0] = (byte)(0x40 | (headerLength / 4));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), 0x1c46); // identification
        var flags = fragmentOffsetBlocks == 0 ? DontFragment : MoreFragments;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), (ushort)(flags | fragmentOffsetBlocks));
        packet[8] = DefaultTtl;
        packet[9] = (byte)protocol;
        IPAddress.Parse(source).TryWriteBytes(packet.AsSpan(12), out _);
        IPAddress.Parse(destination).TryWriteBytes(packet.AsSpan(16), out _);
        options.CopyTo(packet.AsSpan(IPv4HeaderSize));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), HeaderChecksum(packet.AsSpan(0, headerLength)));
        payload.CopyTo(packet.AsSpan(headerLength));
        return packet;
    }

    /// <summary>An IPv6 packet; <paramref name="payload"/> holds any extension headers before the transport header.</summary>
    public static byte[] V6(string source, string destination, int nextHeader, ReadOnlySpan<byte> payload)
    {
        var packet = new byte[IPv6HeaderSize + payload.Length];
        packet[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)payload.Length);
        packet[6] = (byte)nextHeader;
        packet[7] = DefaultTtl;
        IPAddress.Parse(source).TryWriteBytes(packet.AsSpan(8), out _);
        IPAddress.Parse(destination).TryWriteBytes(packet.AsSpan(24), out _);
        payload.CopyTo(packet.AsSpan(IPv6HeaderSize));
        return packet;
    }

    /// <summary>A TCP header (a SYN carries Linux's options), then <paramref name="data"/>.</summary>
    public static byte[] Tcp(int sourcePort, int destinationPort, byte flags, ReadOnlySpan<byte> data = default)
    {
        var options = (flags & TcpSyn) != 0 ? SynOptions : [];
        var headerLength = 20 + options.Length;
        var segment = new byte[headerLength + data.Length];
        BinaryPrimitives.WriteUInt16BigEndian(segment, (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(segment.AsSpan(4), 0x5eed0001);
        segment[12] = (byte)(headerLength / 4 << 4);
        segment[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(14), 64240); // window
        options.CopyTo(segment.AsSpan(20));
        data.CopyTo(segment.AsSpan(headerLength));
        return segment;
    }

    public static byte[] Udp(int sourcePort, int destinationPort, ReadOnlySpan<byte> data)
    {
        var datagram = new byte[8 + data.Length];
        BinaryPrimitives.WriteUInt16BigEndian(datagram, (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(2), (ushort)destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(4), (ushort)datagram.Length);
        data.CopyTo(datagram.AsSpan(8));
        return datagram;
    }

    /// <summary>An echo request or reply with ping's 56 bytes of data.</summary>
    public static byte[] Echo(byte type, ushort identifier, ushort sequence)
    {
        var message = new byte[8 + 56];
        message[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), identifier);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), sequence);
        for (var i = 8; i < message.Length; i++)
        {
            message[i] = (byte)i;
        }

        return message;
    }

    /// <summary>An ICMP or ICMPv6 error quoting (the start of) the packet it answers.</summary>
    public static byte[] Error(byte type, byte code, ReadOnlySpan<byte> quoted)
    {
        var message = new byte[8 + quoted.Length];
        message[0] = type;
        message[1] = code;
        quoted.CopyTo(message.AsSpan(8));
        return message;
    }

    /// <summary>An IPv6 extension header of <paramref name="units"/> 8-byte units (hop-by-hop, routing, destination options: padded with PadN).</summary>
    public static byte[] Extension(int nextHeader, int units = 1)
    {
        var header = new byte[units * 8];
        header[0] = (byte)nextHeader;
        header[1] = (byte)(units - 1);
        header[2] = 1; // PadN
        header[3] = (byte)(header.Length - 4);
        return header;
    }

    /// <summary>An IPv6 fragment header; the M flag is set.</summary>
    public static byte[] Fragment(int nextHeader, int offsetBlocks)
    {
        var header = new byte[8];
        header[0] = (byte)nextHeader;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)((offsetBlocks << 3) | 1));
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), 0x7e11f00d);
        return header;
    }

    private static ushort HeaderChecksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (var i = 0; i < header.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        }

        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
