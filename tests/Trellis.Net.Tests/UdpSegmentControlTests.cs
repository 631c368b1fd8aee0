using System.Buffers.Binary;

namespace Trellis.Net.Tests;

public sealed unsafe class UdpSegmentControlTests
{
    [Fact]
    public void A_segment_size_is_written_as_the_kernel_reads_cmsg_SOL_UDP_UDP_SEGMENT()
    {
        var control = new byte[PacketInfo.ControlSize];
        control.AsSpan().Fill(0xEE);
        int written;
        fixed (byte* p = control)
        {
            written = UdpSegmentControl.WriteSegmentSize(p, 1452);
        }

        Assert.Equal(24, written); // CMSG_SPACE(sizeof(u16)) on 64-bit
        Assert.Equal(18UL, BinaryPrimitives.ReadUInt64LittleEndian(control)); // CMSG_LEN(sizeof(u16))
        Assert.Equal(17, BinaryPrimitives.ReadInt32LittleEndian(control.AsSpan(8))); // SOL_UDP
        Assert.Equal(103, BinaryPrimitives.ReadInt32LittleEndian(control.AsSpan(12))); // UDP_SEGMENT
        Assert.Equal(1452, BinaryPrimitives.ReadUInt16LittleEndian(control.AsSpan(16)));
        Assert.All(control[18..24], b => Assert.Equal(0, b)); // padding cleared
        Assert.All(control[24..], b => Assert.Equal(0xEE, b)); // nothing past its space touched
    }

    [Fact]
    public void The_merged_size_is_found_after_a_packet_info_message()
    {
        var control = new byte[PacketInfo.ControlSize];
        var offset = Cmsg(control, 0, level: 41, type: 50, dataLength: 20); // IPV6_PKTINFO
        offset = Cmsg(control, offset, level: 0, type: 8, dataLength: 12); // IP_PKTINFO
        Cmsg(control, offset, level: 17, type: 104, dataLength: 4); // UDP_GRO
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(offset + 16), 1400);

        Assert.Equal(1400, UdpSegmentControl.ReadGroSize(control));
    }

    [Fact]
    public void No_merged_size_reads_as_zero()
    {
        var control = new byte[PacketInfo.ControlSize];
        Cmsg(control, 0, level: 41, type: 50, dataLength: 20);
        Assert.Equal(0, UdpSegmentControl.ReadGroSize(control.AsSpan(0, 40)));
        Assert.Equal(0, UdpSegmentControl.ReadGroSize([]));
    }

    [Theory]
    [InlineData(0UL)] // a zero length would loop forever if trusted
    [InlineData(15UL)] // shorter than its own header
    [InlineData(200UL)] // past the buffer
    [InlineData(ulong.MaxValue)]
    public void A_garbage_length_ends_the_walk_without_reading_past_the_buffer(ulong length)
    {
        var control = new byte[48];
        Cmsg(control, 0, level: 17, type: 104, dataLength: 4);
        BinaryPrimitives.WriteUInt64LittleEndian(control, length);
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(16), 1400);

        Assert.Equal(0, UdpSegmentControl.ReadGroSize(control));
    }

    [Fact]
    public void A_merged_size_message_too_short_for_its_int_or_negative_is_ignored()
    {
        var control = new byte[48];
        Cmsg(control, 0, level: 17, type: 104, dataLength: 2);
        Assert.Equal(0, UdpSegmentControl.ReadGroSize(control));

        Cmsg(control, 0, level: 17, type: 104, dataLength: 4);
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(16), -5);
        Assert.Equal(0, UdpSegmentControl.ReadGroSize(control));
    }

    /// <summary>Writes a cmsghdr with <paramref name="dataLength"/> bytes of data; returns the next aligned offset.</summary>
    private static int Cmsg(byte[] control, int offset, int level, int type, int dataLength)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(control.AsSpan(offset), (ulong)(16 + dataLength));
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(offset + 8), level);
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(offset + 12), type);
        return offset + ((16 + dataLength + 7) & ~7);
    }
}
