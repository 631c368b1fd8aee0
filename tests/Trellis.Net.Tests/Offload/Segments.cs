using System.Buffers.Binary;

namespace Trellis.Net.Tests.Offload;

/// <summary>Builds TCP and UDP packets (IPv4 or IPv6, TCP options, IPv6 extension headers) for the offload tests.</summary>
internal static class Segments
{
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Fin = 0x01;
    public const byte Syn = 0x02;
    public const byte Rst = 0x04;
    public const byte Psh = 0x08;
    public const byte Ack = 0x10;
    public const byte Urg = 0x20;
    public const byte Ece = 0x40;
    public const byte Cwr = 0x80;

    /// <summary>A deterministic payload, different at every offset, so misplaced bytes show.</summary>
    public static byte[] Payload(int length, int seed = 0)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 7) + (i >> 8) + seed);
        }

        return bytes;
    }

    /// <summary>
    /// A TCP packet: <paramref name="options"/> (a multiple of 4 bytes) after the fixed header,
    /// <paramref name="extension"/> (IPv6 only, one 8-byte hop-by-hop header) before it. Checksums are right
    /// unless <paramref name="checksums"/> is false.
    /// </summary>
    public static byte[] TcpPacket(
        int version, ReadOnlySpan<byte> payload, uint sequence = 1000, byte flags = Ack | Psh, ushort id = 77, byte[]? options = null,
        bool extension = false, ushort sourcePort = 40000, ushort destinationPort = 5201, byte ttl = 64, uint ack = 555, ushort window = 512,
        bool dontFragment = true, bool checksums = true, byte[]? addresses = null)
    {
        options ??= [];
        var tcpLength = 20 + options.Length;
        var (packet, transport) = IPHeader(version, Tcp, tcpLength + payload.Length, id, extension, ttl, dontFragment);
        addresses?.CopyTo(packet, version == 4 ? 12 : 8); // source then destination
        var tcp = packet.AsSpan(transport);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], ack);
        tcp[12] = (byte)((tcpLength / 4) << 4);
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], window);
        options.CopyTo(tcp[20..]);
        payload.CopyTo(tcp[tcpLength..]);
        if (checksums)
        {
            ReferenceChecksum.Fill(packet, transport, Tcp);
        }

        return packet;
    }

    public static byte[] UdpPacket(int version, ReadOnlySpan<byte> payload, ushort id = 9, bool extension = false, bool checksums = true)
    {
        var (packet, transport) = IPHeader(version, Udp, 8 + payload.Length, id, extension, 64, dontFragment: false);
        var udp = packet.AsSpan(transport);
        BinaryPrimitives.WriteUInt16BigEndian(udp, 5353);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], 4242);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(8 + payload.Length));
        payload.CopyTo(udp[8..]);
        if (checksums)
        {
            ReferenceChecksum.Fill(packet, transport, Udp);
        }

        return packet;
    }

    /// <summary>Where the transport header starts.</summary>
    public static int TransportOffset(ReadOnlySpan<byte> packet) =>
        packet[0] >> 4 == 4 ? (packet[0] & 0xf) * 4 : packet[6] == 0 ? 48 : 40;

    public static int TcpPayloadOffset(ReadOnlySpan<byte> packet)
    {
        var t = TransportOffset(packet);
        return t + ((packet[t + 12] >> 4) * 4);
    }

    public static uint Sequence(ReadOnlySpan<byte> packet) => BinaryPrimitives.ReadUInt32BigEndian(packet[(TransportOffset(packet) + 4)..]);

    public static byte Flags(ReadOnlySpan<byte> packet) => packet[TransportOffset(packet) + 13];

    private static (byte[] Packet, int Transport) IPHeader(int version, byte protocol, int transportLength, ushort id, bool extension, byte ttl, bool dontFragment)
    {
        if (version == 4)
        {
            var packet = new byte[20 + transportLength];
            packet[0] = 0x45;
            packet[1] = 0x02; // ECT(0)
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), id);
            packet[6] = dontFragment ? (byte)0x40 : (byte)0;
            packet[8] = ttl;
            packet[9] = protocol;
            new byte[] { 10, 1, 2, 3, 10, 4, 5, 6 }.CopyTo(packet, 12);
            return (packet, 20);
        }

        var extensionLength = extension ? 8 : 0;
        var v6 = new byte[40 + extensionLength + transportLength];
        v6[0] = 0x60;
        v6[1] = 0x0a; // a flow label
        BinaryPrimitives.WriteUInt16BigEndian(v6.AsSpan(4), (ushort)(extensionLength + transportLength));
        v6[6] = extension ? (byte)0 : protocol; // 0: hop-by-hop options
        v6[7] = ttl;
        v6[8] = 0xfd;
        v6[23] = 1;
        v6[24] = 0xfd;
        v6[39] = 2;
        if (extension)
        {
            v6[40] = protocol; // next header; length 0 (8 bytes); PadN fills the rest
            v6[42] = 1;
            v6[43] = 4;
        }

        return (v6, 40 + extensionLength);
    }
}
