using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Trellis.Net.Netlink;

namespace Trellis.Net.Tests.Netlink;

/// <summary>The message layer on its own: layouts, alignment, and parsing of what the kernel sends back.</summary>
public sealed class NetlinkCodecTests
{
    [Fact]
    public void Structure_sizes_match_the_kernel_headers()
    {
        Assert.Equal(16, Unsafe.SizeOf<NlMsgHdr>());
        Assert.Equal(NlMsgHdr.Size, Unsafe.SizeOf<NlMsgHdr>());
        Assert.Equal(16, Unsafe.SizeOf<IfInfoMsg>());
        Assert.Equal(8, Unsafe.SizeOf<IfAddrMsg>());
        Assert.Equal(12, Unsafe.SizeOf<RtMsg>());
        Assert.Equal(12, Unsafe.SizeOf<SockAddrNl>());
        Assert.Equal(16, Unsafe.SizeOf<TimeVal>());
    }

    [Fact]
    public void The_writer_aligns_attributes_and_closes_nests()
    {
        var buffer = new byte[128];
        var writer = new NetlinkWriter(buffer, Rtnl.RTM_NEWLINK, Rtnl.NLM_F_ACK);
        writer.Header<IfInfoMsg>().Index = 7;
        writer.String(Rtnl.IFLA_IFNAME, "ab"); // 4 + 3 bytes, padded to 8
        var nest = writer.BeginNested(Rtnl.IFLA_LINKINFO);
        writer.String(Rtnl.IFLA_INFO_KIND, "dummy"); // 4 + 6, padded to 12
        writer.EndNested(nest);
        writer.Address(Rtnl.IFA_ADDRESS, IPAddress.Parse("10.0.0.1"));
        var message = writer.Finish();

        Assert.Equal(16 + 16 + 8 + 4 + 12 + 8, message.Length);
        var header = MemoryMarshal.Read<NlMsgHdr>(message);
        Assert.Equal((uint)message.Length, header.Length);
        Assert.Equal(Rtnl.RTM_NEWLINK, header.Type);
        Assert.Equal(Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK, header.Flags);
        Assert.Equal(7, MemoryMarshal.Read<IfInfoMsg>(message[16..]).Index);

        var parsed = new NetlinkMessage(header, message[NlMsgHdr.Size..]);
        var attributes = parsed.Attributes<IfInfoMsg>();
        Assert.True(attributes.MoveNext());
        Assert.Equal(Rtnl.IFLA_IFNAME, attributes.Type);
        Assert.Equal("ab", attributes.String());
        Assert.True(attributes.MoveNext());
        Assert.Equal(Rtnl.IFLA_LINKINFO, attributes.Type); // the nested flag is masked off
        Assert.Equal(12, attributes.Value.Length); // the nested attribute with its padding
        var inner = attributes.Nested();
        Assert.True(inner.MoveNext());
        Assert.Equal("dummy", inner.String());
        Assert.False(inner.MoveNext());
        Assert.True(attributes.MoveNext());
        Assert.Equal(IPAddress.Parse("10.0.0.1"), attributes.Address());
        Assert.False(attributes.MoveNext());
    }

    [Fact]
    public void A_request_too_large_for_its_buffer_is_refused()
    {
        var buffer = new byte[24];
        var failed = false;
        try
        {
            var writer = new NetlinkWriter(buffer, Rtnl.RTM_NEWLINK, 0);
            writer.Header<IfInfoMsg>();
        }
        catch (InvalidOperationException)
        {
            failed = true;
        }

        Assert.True(failed);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_error_reply_yields_errno_and_the_extended_ack_text(bool capped)
    {
        // NLMSG_ERROR: -errno, the failed request's header (and its payload unless capped), then TLVs.
        var requestPayload = capped ? 0 : 12;
        var message = new List<byte>();
        message.AddRange(BitConverter.GetBytes(-17));
        message.AddRange(Header(NlMsgHdr.Size + requestPayload, Rtnl.RTM_NEWROUTE, 0, 9));
        message.AddRange(new byte[requestPayload]);
        message.AddRange(Attribute(Rtnl.NLMSGERR_ATTR_MSG, "Route exists\0"u8));
        var flags = (ushort)(Rtnl.NLM_F_ACK_TLVS | (capped ? Rtnl.NLM_F_CAPPED : 0));
        var datagram = Header(NlMsgHdr.Size + message.Count, Rtnl.NLMSG_ERROR, flags, 9).Concat(message).ToArray();

        var reader = new NetlinkMessageReader(datagram);
        Assert.True(reader.TryRead(out var parsed));
        var result = NetlinkSocket.Completion(parsed, interrupted: false);

        Assert.Equal(17, result.Errno);
        Assert.Equal("Route exists", result.KernelMessage);
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void An_acknowledgement_is_errno_zero_without_text()
    {
        var datagram = Header(NlMsgHdr.Size + 4 + NlMsgHdr.Size, Rtnl.NLMSG_ERROR, Rtnl.NLM_F_CAPPED, 3)
            .Concat(new byte[4]).Concat(Header(NlMsgHdr.Size, Rtnl.RTM_NEWADDR, 0, 3)).ToArray();

        var reader = new NetlinkMessageReader(datagram);
        Assert.True(reader.TryRead(out var parsed));
        var result = NetlinkSocket.Completion(parsed, interrupted: false);

        Assert.Equal(0, result.Errno);
        Assert.Null(result.KernelMessage);
    }

    [Fact]
    public void Several_messages_in_one_datagram_are_read_in_turn_and_a_bad_length_is_reported()
    {
        var datagram = Header(NlMsgHdr.Size + 2, Rtnl.RTM_NEWLINK, Rtnl.NLM_F_MULTI, 5).Concat(new byte[4]) // 2 bytes + 2 padding
            .Concat(Header(NlMsgHdr.Size + 4, Rtnl.NLMSG_DONE, Rtnl.NLM_F_MULTI, 5)).Concat(new byte[4]).ToArray();

        var reader = new NetlinkMessageReader(datagram);
        Assert.True(reader.TryRead(out var first));
        Assert.Equal(Rtnl.RTM_NEWLINK, first.Type);
        Assert.Equal(2, first.Payload.Length);
        Assert.True(reader.TryRead(out var second));
        Assert.Equal(Rtnl.NLMSG_DONE, second.Type);
        Assert.Equal(5u, second.Sequence);
        Assert.False(reader.TryRead(out _));

        var truncated = Header(64, Rtnl.RTM_NEWLINK, 0, 1);
        Assert.Throws<InvalidDataException>(() =>
        {
            var r = new NetlinkMessageReader(truncated);
            r.TryRead(out _);
        });
    }

    [Fact]
    public void A_truncated_attribute_ends_the_walk_without_throwing()
    {
        var bytes = Attribute(Rtnl.IFLA_MTU, BitConverter.GetBytes(1420u)).Concat(new byte[] { 40, 0, 3, 0, 1, 2 }).ToArray();

        var attributes = new NetlinkAttributeReader(bytes);

        Assert.True(attributes.MoveNext());
        Assert.Equal(1420u, attributes.UInt32());
        Assert.False(attributes.MoveNext());
    }

    [Fact]
    public void Parsed_routes_have_host_bits_cleared()
    {
        var network = IPNetworks.Network(IPAddress.Parse("10.1.2.3"), 20);

        Assert.Equal(IPNetwork.Parse("10.1.0.0/20"), network);
        Assert.Equal(IPNetwork.Parse("fd00:1200::/24"), IPNetworks.Network(IPAddress.Parse("fd00:12ff::1"), 24));
        Assert.Equal(IPNetwork.Parse("0.0.0.0/0"), IPNetworks.Network(IPAddress.Parse("10.1.2.3"), 0));
    }

    private static byte[] Header(int length, ushort type, ushort flags, uint sequence)
    {
        var bytes = new byte[NlMsgHdr.Size];
        MemoryMarshal.Write(bytes, new NlMsgHdr { Length = (uint)length, Type = type, Flags = flags, Sequence = sequence });
        return bytes;
    }

    private static byte[] Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        var bytes = new byte[NetlinkWriter.Align(4 + value.Length)];
        MemoryMarshal.Write(bytes, (ushort)(4 + value.Length));
        MemoryMarshal.Write(bytes.AsSpan(2), type);
        value.CopyTo(bytes.AsSpan(4));
        return bytes;
    }
}
