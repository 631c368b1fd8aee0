using System.Buffers.Binary;
using Trellis.Core.Control;

namespace Trellis.Node.Filter;

/// <summary>How a packet came out of <see cref="PacketHeaders.TryParse"/>.</summary>
internal enum ParseResult : byte
{
    /// <summary>Addresses, protocol and (where the protocol has them) ports are known.</summary>
    Parsed,

    /// <summary>A fragment after the first: no transport header, so no ports to filter on.</summary>
    LaterFragment,

    /// <summary>Truncated, inconsistent, or hiding its transport header: dropped.</summary>
    Invalid,
}

/// <summary>
/// The header fields the packet filter decides on, read from an IPv4 or IPv6 packet without
/// allocating. IPv4 addresses are kept in the low 32 bits; <see cref="IsV6"/> says which family.
/// </summary>
internal struct PacketHeaders
{
    /// <summary>
    /// A later fragment starting before this many 8-byte blocks (the longest IPv4 header plus a TCP
    /// header) could overwrite the transport header the first fragment was judged by (RFC 1858), so
    /// it is dropped; later fragments beyond it pass, as in Tailscale, and the receiving kernel
    /// discards them when their first fragment was refused.
    /// </summary>
    public const int MinLaterFragmentBlocks = (60 + 20) / 8;

    /// <summary>IPv6 extension headers walked before giving up on a packet (a longer chain is dropped).</summary>
    public const int MaxExtensionHeaders = 8;

    private const int IPv4HeaderMin = 20;
    private const int IPv6HeaderSize = 40;
    private const int TcpHeaderMin = 20;
    private const int UdpHeaderSize = 8;
    private const int SctpCommonHeaderSize = 12;
    private const int FragmentHeaderSize = 8;
    private const int ExtensionUnit = 8;
    private const ushort IPv4FragmentOffsetMask = 0x1fff;

    private const byte HopByHopOptions = 0;
    private const byte RoutingHeader = 43;
    private const byte FragmentHeader = 44;
    private const byte DestinationOptions = 60;

    public bool IsV6;
    public byte Protocol;
    public UInt128 Source;
    public UInt128 Destination;
    public ushort SourcePort;
    public ushort DestinationPort;

    /// <summary>For ICMP and ICMPv6: what the message is; the echo identifier is in <see cref="SourcePort"/>.</summary>
    public IcmpKind Icmp;

    /// <summary>Where the transport header starts (for ICMP errors, the quoted packet follows it).</summary>
    public int TransportOffset;

    /// <summary>Whether the protocol carries ports the rules filter on.</summary>
    public static bool HasPorts(int protocol) => protocol is IpProtocols.Tcp or IpProtocols.Udp or IpProtocols.Sctp;

    public static bool IsIcmp(int protocol) => protocol is IpProtocols.Icmp or IpProtocols.IcmpV6;

    /// <summary>Parses a whole packet (exactly its IP length).</summary>
    public static ParseResult TryParse(ReadOnlySpan<byte> packet, out PacketHeaders headers)
    {
        headers = default;
        if (packet.Length >= IPv4HeaderMin && packet[0] >> 4 == 4)
        {
            return ParseV4(packet, ref headers);
        }

        if (packet.Length >= IPv6HeaderSize && packet[0] >> 4 == 6)
        {
            return ParseV6(packet, ref headers);
        }

        return ParseResult.Invalid;
    }

    /// <summary>
    /// Reads the packet an ICMP error quotes (this host's own packet, as sent) into the key of its
    /// flow. Only the IP header and the first 8 transport bytes are guaranteed to be quoted.
    /// </summary>
    public static bool TryReadQuotedFlow(ReadOnlySpan<byte> quoted, bool isV6, out FlowKey flow)
    {
        flow = default;
        var quotedHeaders = default(PacketHeaders);
        int offset;
        if (!isV6)
        {
            if (quoted.Length < IPv4HeaderMin || quoted[0] >> 4 != 4)
            {
                return false;
            }

            offset = (quoted[0] & 0x0f) * 4;
            if (offset < IPv4HeaderMin || (BinaryPrimitives.ReadUInt16BigEndian(quoted[6..]) & IPv4FragmentOffsetMask) != 0)
            {
                return false;
            }

            quotedHeaders.Protocol = quoted[9];
            quotedHeaders.Source = BinaryPrimitives.ReadUInt32BigEndian(quoted[12..]);
            quotedHeaders.Destination = BinaryPrimitives.ReadUInt32BigEndian(quoted[16..]);
        }
        else
        {
            if (quoted.Length < IPv6HeaderSize || quoted[0] >> 4 != 6)
            {
                return false;
            }

            offset = IPv6HeaderSize;
            quotedHeaders.IsV6 = true;
            quotedHeaders.Protocol = quoted[6];
            quotedHeaders.Source = BinaryPrimitives.ReadUInt128BigEndian(quoted[8..]);
            quotedHeaders.Destination = BinaryPrimitives.ReadUInt128BigEndian(quoted[24..]);
        }

        // Quoted transport headers are cut at 8 bytes, enough for ports and the echo identifier.
        if (!ReadTransport(quoted, offset, UdpHeaderSize, ref quotedHeaders))
        {
            return false;
        }

        return quotedHeaders.TryOutboundFlow(out flow);
    }

    /// <summary>The flow a packet this host sends belongs to; false for ICMP other than echo requests.</summary>
    public readonly bool TryOutboundFlow(out FlowKey flow)
    {
        if (IsIcmp(Protocol) && Icmp != IcmpKind.EchoRequest)
        {
            flow = default;
            return false;
        }

        flow = new FlowKey(IsV6, Protocol, Source, Destination, SourcePort, DestinationPort);
        return true;
    }

    /// <summary>The flow a received packet would answer; false for ICMP that answers nothing (requests, other types).</summary>
    public readonly bool TryReplyFlow(out FlowKey flow)
    {
        if (!IsIcmp(Protocol))
        {
            flow = new FlowKey(IsV6, Protocol, Destination, Source, DestinationPort, SourcePort);
            return true;
        }

        // An echo reply carries the request's identifier, which this host chose.
        flow = new FlowKey(IsV6, Protocol, Destination, Source, SourcePort, 0);
        return Icmp == IcmpKind.EchoReply;
    }

    private static ParseResult ParseV4(ReadOnlySpan<byte> packet, ref PacketHeaders headers)
    {
        var headerLength = (packet[0] & 0x0f) * 4;
        var total = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (headerLength < IPv4HeaderMin || total < headerLength || total > packet.Length)
        {
            return ParseResult.Invalid;
        }

        packet = packet[..total];
        headers.Protocol = packet[9];
        headers.Source = BinaryPrimitives.ReadUInt32BigEndian(packet[12..]);
        headers.Destination = BinaryPrimitives.ReadUInt32BigEndian(packet[16..]);
        var fragmentOffset = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & IPv4FragmentOffsetMask;
        if (fragmentOffset != 0)
        {
            return LaterFragment(fragmentOffset);
        }

        return ReadTransport(packet, headerLength, minimum: 0, ref headers) ? ParseResult.Parsed : ParseResult.Invalid;
    }

    private static ParseResult ParseV6(ReadOnlySpan<byte> packet, ref PacketHeaders headers)
    {
        var total = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) + IPv6HeaderSize;
        if (total > packet.Length)
        {
            return ParseResult.Invalid;
        }

        packet = packet[..total];
        headers.IsV6 = true;
        headers.Source = BinaryPrimitives.ReadUInt128BigEndian(packet[8..]);
        headers.Destination = BinaryPrimitives.ReadUInt128BigEndian(packet[24..]);
        var next = packet[6];
        var offset = IPv6HeaderSize;
        for (var walked = 0; ; walked++)
        {
            if (next is not (HopByHopOptions or RoutingHeader or DestinationOptions or FragmentHeader))
            {
                headers.Protocol = next;
                return ReadTransport(packet, offset, minimum: 0, ref headers) ? ParseResult.Parsed : ParseResult.Invalid;
            }

            if (walked == MaxExtensionHeaders || offset + ExtensionUnit > packet.Length)
            {
                return ParseResult.Invalid;
            }

            var following = packet[offset];
            if (next == FragmentHeader)
            {
                var fragmentOffset = BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]) >> 3;
                offset += FragmentHeaderSize;
                if (fragmentOffset != 0)
                {
                    headers.Protocol = following;
                    return LaterFragment(fragmentOffset);
                }
            }
            else
            {
                offset += (packet[offset + 1] + 1) * ExtensionUnit;
            }

            next = following;
        }
    }

    private static ParseResult LaterFragment(int offsetBlocks) =>
        offsetBlocks < MinLaterFragmentBlocks ? ParseResult.Invalid : ParseResult.LaterFragment;

    /// <summary>
    /// Reads ports or the ICMP type and echo identifier at <paramref name="offset"/>. Needs the whole
    /// transport header (a first fragment that cuts it short is dropped), or only
    /// <paramref name="minimum"/> bytes of it when set (quoted packets).
    /// </summary>
    private static bool ReadTransport(ReadOnlySpan<byte> packet, int offset, int minimum, ref PacketHeaders headers)
    {
        if (offset > packet.Length)
        {
            return false;
        }

        headers.TransportOffset = offset;
        var transport = packet[offset..];
        int needed;
        switch (headers.Protocol)
        {
            case IpProtocols.Tcp:
                needed = TcpHeaderMin;
                break;
            case IpProtocols.Udp:
                needed = UdpHeaderSize;
                break;
            case IpProtocols.Sctp:
                needed = SctpCommonHeaderSize;
                break;
            case IpProtocols.Icmp:
            case IpProtocols.IcmpV6:
                if (headers.IsV6 != (headers.Protocol == IpProtocols.IcmpV6))
                {
                    return false; // ICMPv6 in IPv4 or the reverse: nothing legitimate sends it
                }

                if (transport.Length < IcmpTypes.HeaderSize)
                {
                    return false;
                }

                headers.Icmp = IcmpTypes.Classify(headers.IsV6, transport[0]);
                if (headers.Icmp is IcmpKind.EchoRequest or IcmpKind.EchoReply)
                {
                    headers.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(transport[4..]);
                    headers.DestinationPort = 0;
                }

                return true;
            default:
                return true; // other protocols are filtered by number alone
        }

        if (transport.Length < (minimum > 0 ? minimum : needed))
        {
            return false;
        }

        headers.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(transport);
        headers.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(transport[2..]);
        return true;
    }
}
