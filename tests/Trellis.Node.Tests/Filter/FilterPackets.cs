using System.Buffers.Binary;
using System.Net;
using Trellis.Core.Control;

namespace Trellis.Node.Tests.Filter;

/// <summary>IPv4 and IPv6 packets with real transport headers, as a peer's host would send them.</summary>
internal static class FilterPackets
{
    public static byte[] Tcp(string source, int sourcePort, string destination, int destinationPort) =>
        Ip(source, destination, IpProtocols.Tcp, Ports(sourcePort, destinationPort, 20));

    public static byte[] Udp(string source, int sourcePort, string destination, int destinationPort) =>
        Ip(source, destination, IpProtocols.Udp, Ports(sourcePort, destinationPort, 8));

    /// <summary>An echo request or reply (ICMP or ICMPv6 after the family of the addresses).</summary>
    public static byte[] Echo(string source, string destination, bool reply, ushort id)
    {
        var v6 = IsV6(source);
        var icmp = new byte[8];
        icmp[0] = (v6, reply) switch
        {
            (false, false) => 8,
            (false, true) => 0,
            (true, false) => 128,
            (true, true) => 129,
        };
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(4), id);
        return Ip(source, destination, v6 ? IpProtocols.IcmpV6 : IpProtocols.Icmp, icmp);
    }

    /// <summary>Destination unreachable (port unreachable) quoting <paramref name="quoted"/>.</summary>
    public static byte[] Unreachable(string source, string destination, byte[] quoted)
    {
        var v6 = IsV6(source);
        var icmp = new byte[8 + quoted.Length];
        icmp[0] = (byte)(v6 ? 1 : 3);
        icmp[1] = (byte)(v6 ? 4 : 3);
        quoted.CopyTo(icmp, 8);
        return Ip(source, destination, v6 ? IpProtocols.IcmpV6 : IpProtocols.Icmp, icmp);
    }

    public static byte[] Other(string source, string destination, int protocol) =>
        Ip(source, destination, protocol, new byte[16]);

    /// <summary>An IPv4 fragment after the first, at <paramref name="offsetBlocks"/> 8-byte blocks.</summary>
    public static byte[] LaterFragmentV4(string source, string destination, int offsetBlocks)
    {
        var packet = Ip(source, destination, IpProtocols.Udp, new byte[64]);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), (ushort)offsetBlocks);
        return packet;
    }

    /// <summary>An IPv6 TCP packet behind a hop-by-hop options header and a fragment header (first or later fragment).</summary>
    public static byte[] TcpV6WithExtensions(string source, string destination, int destinationPort, int fragmentOffsetBlocks = 0)
    {
        var tcp = Ports(40000, destinationPort, 20);
        var extensions = new byte[8 + 8 + tcp.Length];
        extensions[0] = 44; // hop-by-hop -> fragment
        extensions[1] = 0; // 8 bytes
        extensions[8] = (byte)IpProtocols.Tcp; // fragment -> TCP
        BinaryPrimitives.WriteUInt16BigEndian(extensions.AsSpan(10), (ushort)((fragmentOffsetBlocks << 3) | 1));
        tcp.CopyTo(extensions, 16);
        var packet = Ip(source, destination, 0, extensions);
        return packet;
    }

    /// <summary>A copy cut short after <paramref name="length"/> bytes of transport header, lengths fixed up.</summary>
    public static byte[] Truncated(byte[] packet, int transportBytes)
    {
        var headerLength = packet[0] >> 4 == 4 ? 20 : 40;
        var cut = packet[..(headerLength + transportBytes)];
        if (headerLength == 20)
        {
            BinaryPrimitives.WriteUInt16BigEndian(cut.AsSpan(2), (ushort)cut.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(cut.AsSpan(4), (ushort)transportBytes);
        }

        return cut;
    }

    private static byte[] Ports(int source, int destination, int headerLength)
    {
        var header = new byte[headerLength + 8];
        BinaryPrimitives.WriteUInt16BigEndian(header, (ushort)source);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)destination);
        if (headerLength == 20)
        {
            header[12] = 5 << 4;
        }

        return header;
    }

    private static bool IsV6(string address) => IPAddress.Parse(address).AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;

    private static byte[] Ip(string source, string destination, int protocol, byte[] payload)
    {
        var src = IPAddress.Parse(source).GetAddressBytes();
        var dst = IPAddress.Parse(destination).GetAddressBytes();
        if (src.Length == 4)
        {
            var p = new byte[20 + payload.Length];
            p[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
            p[8] = 64;
            p[9] = (byte)protocol;
            src.CopyTo(p, 12);
            dst.CopyTo(p, 16);
            payload.CopyTo(p, 20);
            return p;
        }

        var q = new byte[40 + payload.Length];
        q[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(q.AsSpan(4), (ushort)payload.Length);
        q[6] = (byte)protocol;
        q[7] = 64;
        src.CopyTo(q, 8);
        dst.CopyTo(q, 24);
        payload.CopyTo(q, 40);
        return q;
    }
}
