using System.Buffers.Binary;

namespace Trellis.Net;

/// <summary>
/// The UDP segmentation control messages: UDP_SEGMENT on send (one sendmsg the kernel cuts into
/// datagrams of the given size) and UDP_GRO on receive (the size of the datagrams the kernel merged
/// into one buffer). Both are cmsg level SOL_UDP, written and read in a message's preallocated
/// control buffer.
/// </summary>
internal static unsafe class UdpSegmentControl
{
    private const int HeaderSize = 16; // cmsghdr on 64-bit: size_t len, int level, int type

    /// <summary>Bytes a UDP_SEGMENT control message takes (CMSG_SPACE of a u16).</summary>
    public const int SegmentSpace = HeaderSize + 8;

    /// <summary>Writes UDP_SEGMENT with <paramref name="size"/> at <paramref name="control"/>; returns its space.</summary>
    public static int WriteSegmentSize(byte* control, ushort size)
    {
        var span = new Span<byte>(control, SegmentSpace);
        span.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(span, HeaderSize + sizeof(ushort));
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], Libc.SOL_UDP);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], Libc.UDP_SEGMENT);
        BinaryPrimitives.WriteUInt16LittleEndian(span[HeaderSize..], size);
        return SegmentSpace;
    }

    /// <summary>
    /// The segment size of a received buffer the kernel merged (UDP_GRO), or 0 when it holds one
    /// datagram. Reads no further than <paramref name="length"/> nor <see cref="PacketInfo.ControlSize"/>.
    /// </summary>
    public static int ReadGroSize(byte* control, nuint length) =>
        ReadGroSize(new ReadOnlySpan<byte>(control, (int)Math.Min(length, PacketInfo.ControlSize)));

    /// <inheritdoc cref="ReadGroSize(byte*, nuint)"/>
    public static int ReadGroSize(ReadOnlySpan<byte> remaining)
    {
        while (remaining.Length >= HeaderSize)
        {
            var messageLength = (int)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(remaining), int.MaxValue);
            if (messageLength < HeaderSize || messageLength > remaining.Length)
            {
                return 0;
            }

            var level = BinaryPrimitives.ReadInt32LittleEndian(remaining[8..]);
            var type = BinaryPrimitives.ReadInt32LittleEndian(remaining[12..]);
            if (level == Libc.SOL_UDP && type == Libc.UDP_GRO && messageLength >= HeaderSize + sizeof(int))
            {
                var size = BinaryPrimitives.ReadInt32LittleEndian(remaining[HeaderSize..]);
                return size > 0 ? size : 0;
            }

            remaining = remaining[Math.Min(remaining.Length, (messageLength + 7) & ~7)..];
        }

        return 0;
    }
}
