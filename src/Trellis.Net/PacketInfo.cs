using System.Buffers.Binary;
using Trellis.Core.Transport;

namespace Trellis.Net;

/// <summary>
/// The IP_PKTINFO / IPV6_PKTINFO control messages of recvmmsg/sendmmsg, read and written in place
/// in a message's preallocated control buffer: on receive the address a datagram was sent to, on
/// send the source address to use.
/// </summary>
internal static unsafe class PacketInfo
{
    /// <summary>Room per message: an IPV6_PKTINFO (40) and an IP_PKTINFO (32), 8-byte aligned, with slack.</summary>
    public const int ControlSize = 128;

    private const int HeaderSize = 16; // cmsghdr on 64-bit: size_t len, int level, int type
    private const int In6PktInfoSize = 20; // in6_addr, int ifindex
    private const int InPktInfoSize = 12; // int ifindex, in_addr spec_dst, in_addr addr

    /// <summary>Bytes an IPV6_PKTINFO control message takes (CMSG_SPACE).</summary>
    public const int In6Space = HeaderSize + 24;

    /// <summary>Bytes an IP_PKTINFO control message takes (CMSG_SPACE).</summary>
    public const int InSpace = HeaderSize + 16;

    /// <summary>The destination address reported in the received control messages; unknown if none.</summary>
    public static LocalAddress Read(byte* control, nuint length)
    {
        var remaining = new ReadOnlySpan<byte>(control, (int)Math.Min(length, ControlSize));
        LocalAddress v4 = default;
        while (remaining.Length >= HeaderSize)
        {
            var messageLength = (int)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(remaining), int.MaxValue);
            if (messageLength < HeaderSize || messageLength > remaining.Length)
            {
                break;
            }

            var level = BinaryPrimitives.ReadInt32LittleEndian(remaining[8..]);
            var type = BinaryPrimitives.ReadInt32LittleEndian(remaining[12..]);
            var data = remaining[HeaderSize..messageLength];
            if (level == Libc.IPPROTO_IPV6 && type == Libc.IPV6_PKTINFO && data.Length >= In6PktInfoSize)
            {
                return new LocalAddress(BinaryPrimitives.ReadUInt128BigEndian(data));
            }

            if (level == Libc.SOL_IP && type == Libc.IP_PKTINFO && data.Length >= InPktInfoSize)
            {
                v4 = new LocalAddress(Endpoint.FromAddressBytes(data.Slice(8, 4), 1).Address);
            }

            remaining = remaining[Math.Min(remaining.Length, (messageLength + 7) & ~7)..];
        }

        return v4;
    }

    /// <summary>
    /// Writes the control message that sends from <paramref name="source"/> on a socket of
    /// <paramref name="family"/> and returns its length; 0 (no control message) when the source is
    /// unknown or of the other family than the destination.
    /// </summary>
    public static int Write(byte* control, LocalAddress source, in Endpoint destination, int family)
    {
        if (!source.IsKnown || new Endpoint(source.Address, 1).IsIPv4 != destination.IsIPv4)
        {
            return 0;
        }

        var span = new Span<byte>(control, ControlSize);
        if (family == Libc.AF_INET6)
        {
            // A dual-stack socket takes a v4-mapped source here for an IPv4 destination too.
            span[..In6Space].Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(span, HeaderSize + In6PktInfoSize);
            BinaryPrimitives.WriteInt32LittleEndian(span[8..], Libc.IPPROTO_IPV6);
            BinaryPrimitives.WriteInt32LittleEndian(span[12..], Libc.IPV6_PKTINFO);
            BinaryPrimitives.WriteUInt128BigEndian(span[HeaderSize..], source.Address);
            return In6Space;
        }

        span[..InSpace].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(span, HeaderSize + InPktInfoSize);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], Libc.SOL_IP);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], Libc.IP_PKTINFO);
        BinaryPrimitives.WriteUInt32BigEndian(span[(HeaderSize + 4)..], (uint)source.Address); // ipi_spec_dst
        return InSpace;
    }
}
