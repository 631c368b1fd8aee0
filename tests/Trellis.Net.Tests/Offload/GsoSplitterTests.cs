using System.Buffers.Binary;
using Trellis.Net.Offload;

namespace Trellis.Net.Tests.Offload;

public sealed class GsoSplitterTests
{
    private static readonly byte[] Timestamps = [1, 1, 8, 10, 0, 0, 0, 42, 0, 0, 0, 7]; // NOP NOP TS

    [Theory]
    [InlineData(4, 10_000, 1380, true, false)]
    [InlineData(4, 1381, 1380, false, false)] // a 1-byte last segment
    [InlineData(4, 999, 1380, true, false)] // one segment, shorter than the MSS
    [InlineData(4, 65_000, 1448, true, false)]
    [InlineData(6, 64_000, 1360, true, false)]
    [InlineData(6, 5001, 1000, false, true)] // behind a hop-by-hop extension header
    public void A_TCP_super_packet_becomes_valid_segments_with_the_kernels_flags_sequence_numbers_and_ids(int version, int payloadLength, int mss, bool options, bool extension)
    {
        var payload = Segments.Payload(payloadLength);
        const byte flags = Segments.Ack | Segments.Psh | Segments.Fin | Segments.Cwr | Segments.Ece;
        var super = Segments.TcpPacket(version, payload, sequence: 0xffff_f000, flags: flags, id: 0xfffe, options: options ? Timestamps : null, extension: extension, checksums: false);
        var transport = Segments.TransportOffset(super);
        var header = Header(version == 4 ? VirtioNetHeader.GsoTcpV4 : VirtioNetHeader.GsoTcpV6, mss, transport, 16);

        var segments = Split(header, super);

        Assert.Equal((payloadLength + mss - 1) / mss, segments.Count);
        var joined = new List<byte>();
        for (var i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            var first = i == 0;
            var last = i == segments.Count - 1;
            Assert.InRange(s.Length, 1, Segments.TcpPayloadOffset(super) + mss);
            if (version == 4)
            {
                Assert.Equal(s.Length, BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(2)));
                Assert.Equal((ushort)(0xfffe + i), BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(4)));
                Assert.True(ReferenceChecksum.IPv4HeaderValid(s), $"IPv4 header checksum of segment {i}");
            }
            else
            {
                Assert.Equal(s.Length - 40, BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(4)));
            }

            Assert.True(ReferenceChecksum.TransportValid(s, transport, Segments.Tcp), $"TCP checksum of segment {i}");
            Assert.Equal(unchecked(0xffff_f000u + (uint)(i * mss)), Segments.Sequence(s));
            var f = Segments.Flags(s);
            Assert.Equal(first, (f & Segments.Cwr) != 0);
            Assert.Equal(last, (f & Segments.Psh) != 0);
            Assert.Equal(last, (f & Segments.Fin) != 0);
            Assert.Equal(Segments.Ack | Segments.Ece, f & (Segments.Ack | Segments.Ece));
            Assert.Equal(super.AsSpan(transport + 20, Segments.TcpPayloadOffset(super) - transport - 20).ToArray(), s.AsSpan(transport + 20, Segments.TcpPayloadOffset(s) - transport - 20).ToArray());
            var addresses = version == 4 ? 12..20 : 8..transport; // and the extension header
            Assert.Equal(super[addresses], s[addresses]);
            joined.AddRange(s.AsSpan(Segments.TcpPayloadOffset(s)).ToArray());
        }

        Assert.Equal(payload, joined.ToArray());
    }

    [Theory]
    [InlineData(4, 7000, 1400, false)]
    [InlineData(6, 2801, 1400, false)]
    [InlineData(6, 3000, 1200, true)]
    public void A_UDP_super_packet_becomes_datagrams_with_their_own_lengths_and_checksums(int version, int payloadLength, int size, bool extension)
    {
        var payload = Segments.Payload(payloadLength, seed: 3);
        var super = Segments.UdpPacket(version, payload, id: 100, extension: extension, checksums: false);
        var transport = Segments.TransportOffset(super);

        var segments = Split(Header(VirtioNetHeader.GsoUdpL4, size, transport, 6), super);

        Assert.Equal((payloadLength + size - 1) / size, segments.Count);
        for (var i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            Assert.Equal(s.Length - transport, BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(transport + 4)));
            Assert.True(ReferenceChecksum.TransportValid(s, transport, Segments.Udp), $"UDP checksum of datagram {i}");
            Assert.Equal(payload.AsSpan(i * size, Math.Min(size, payloadLength - (i * size))).ToArray(), s.AsSpan(transport + 8).ToArray());
            if (version == 4)
            {
                Assert.True(ReferenceChecksum.IPv4HeaderValid(s));
                Assert.Equal(100 + i, BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(4)));
            }
        }
    }

    [Theory]
    [InlineData(4, Segments.Udp, 101)]
    [InlineData(6, Segments.Udp, 0)]
    [InlineData(4, Segments.Tcp, 1)]
    [InlineData(6, Segments.Tcp, 1337)]
    public void A_partial_checksum_is_completed_to_the_right_value(int version, byte protocol, int payloadLength)
    {
        var payload = Segments.Payload(payloadLength, seed: 5);
        var right = protocol == Segments.Tcp ? Segments.TcpPacket(version, payload) : Segments.UdpPacket(version, payload);
        var transport = Segments.TransportOffset(right);
        var field = transport + (protocol == Segments.Tcp ? 16 : 6);
        var partial = (byte[])right.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(partial.AsSpan(field), ReferenceChecksum.Pseudo(partial, protocol, partial.Length - transport));
        var header = new VirtioNetHeader { Flags = VirtioNetHeader.FlagNeedsCsum, CsumStart = (ushort)transport, CsumOffset = (ushort)(field - transport) };

        Assert.True(GsoSplitter.CompleteChecksum(header, partial));

        Assert.True(ReferenceChecksum.TransportValid(partial, transport, protocol));
        Assert.Equal(right, partial);
    }

    [Fact]
    public void A_partial_checksum_whose_field_lies_outside_the_packet_is_refused()
    {
        var packet = Segments.UdpPacket(4, Segments.Payload(10));
        Assert.False(GsoSplitter.CompleteChecksum(new VirtioNetHeader { CsumStart = 20, CsumOffset = (ushort)(packet.Length - 20 - 1) }, packet));
        Assert.False(GsoSplitter.CompleteChecksum(new VirtioNetHeader { CsumStart = (ushort)packet.Length, CsumOffset = 0 }, packet));
    }

    [Fact]
    public void Headers_that_do_not_match_the_packet_are_refused()
    {
        var v4 = Segments.TcpPacket(4, Segments.Payload(3000));
        var v6 = Segments.TcpPacket(6, Segments.Payload(3000));
        var fragment = Segments.TcpPacket(4, Segments.Payload(3000), dontFragment: false);
        fragment[6] |= 0x20; // more fragments
        var udp = Segments.UdpPacket(4, Segments.Payload(3000));
        var tcp4 = Header(VirtioNetHeader.GsoTcpV4, 1000, 20, 16);

        Assert.False(GsoSplitter.TryPlan(Header(VirtioNetHeader.GsoTcpV4, 1000, 40, 16), v6, out _)); // version
        Assert.False(GsoSplitter.TryPlan(Header(VirtioNetHeader.GsoTcpV6, 1000, 20, 16), v4, out _));
        Assert.False(GsoSplitter.TryPlan(tcp4, fragment, out _));
        Assert.False(GsoSplitter.TryPlan(tcp4, udp, out _)); // protocol
        Assert.False(GsoSplitter.TryPlan(Header(VirtioNetHeader.GsoTcpV4, 0, 20, 16), v4, out _)); // no segment size
        Assert.False(GsoSplitter.TryPlan(Header(3, 1000, 20, 6), udp, out _)); // UFO: never asked for
        Assert.False(GsoSplitter.TryPlan(tcp4, v4.AsSpan(0, 30), out _)); // cut inside the TCP header
        Assert.False(GsoSplitter.TryPlan(Header(VirtioNetHeader.GsoTcpV6, 1000, 12, 16), v6, out _)); // csum_start inside the IPv6 header
        Assert.True(GsoSplitter.TryPlan(tcp4, v4, out var layout));
        Assert.Equal(3, layout.Segments);
    }

    [Fact]
    public void Splitting_allocates_nothing()
    {
        var super = Segments.TcpPacket(4, Segments.Payload(60_000), options: Timestamps);
        var header = Header(VirtioNetHeader.GsoTcpV4, 1380, 20, 16);
        var into = new byte[2000];
        GsoLayout layout = default;
        for (var round = 0; round < 100; round++) // past the JIT's tiering, which may allocate on this thread
        {
            Assert.True(GsoSplitter.TryPlan(header, super, out layout));
            for (var i = 0; i < layout.Segments; i++)
            {
                GsoSplitter.WriteSegment(layout, super, i, into);
            }
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 100; round++)
        {
            GsoSplitter.TryPlan(header, super, out layout);
            for (var i = 0; i < layout.Segments; i++)
            {
                GsoSplitter.WriteSegment(layout, super, i, into);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    internal static VirtioNetHeader Header(byte type, int size, int transport, int checksumOffset) => new()
    {
        Flags = VirtioNetHeader.FlagNeedsCsum,
        GsoType = type,
        HeaderLength = 1, // the kernel's hdr_len is only a hint; the splitter reads the headers itself
        GsoSize = (ushort)size,
        CsumStart = (ushort)transport,
        CsumOffset = (ushort)checksumOffset,
    };

    internal static List<byte[]> Split(in VirtioNetHeader header, byte[] super)
    {
        Assert.True(GsoSplitter.TryPlan(header, super, out var layout));
        var segments = new List<byte[]>();
        var into = new byte[70_000];
        for (var i = 0; i < layout.Segments; i++)
        {
            segments.Add(into.AsSpan(0, GsoSplitter.WriteSegment(layout, super, i, into)).ToArray());
        }

        return segments;
    }
}
