using System.Buffers.Binary;
using Trellis.Core.Transport;
using Trellis.Net.Offload;

namespace Trellis.Net.Tests.Offload;

public sealed class TcpCoalescerTests
{
    private const int Mss = 1380;
    private const int Headroom = 16;
    private static readonly byte[] Timestamps = [1, 1, 8, 10, 0, 0, 0, 42, 0, 0, 0, 7];

    [Theory]
    [InlineData(4, false)]
    [InlineData(4, true)]
    [InlineData(6, false)]
    [InlineData(6, true)]
    public void In_order_segments_of_a_flow_become_one_super_packet_that_splits_back_into_them(int version, bool options)
    {
        var stream = Stream(version, 10, lastLength: 700, options: options ? Timestamps : null);
        var coalescer = new TcpCoalescer(128);
        var buffers = Buffers(stream);

        coalescer.Plan(buffers);

        Assert.Equal(1, coalescer.GroupCount);
        Assert.Equal(10, coalescer.Count(0));
        var (header, super) = Write(coalescer, buffers, 0);
        var ipLength = version == 4 ? 20 : 40;
        Assert.Equal(VirtioNetHeader.FlagNeedsCsum, header.Flags);
        Assert.Equal(version == 4 ? VirtioNetHeader.GsoTcpV4 : VirtioNetHeader.GsoTcpV6, header.GsoType);
        Assert.Equal(Mss, header.GsoSize);
        Assert.Equal(ipLength, header.CsumStart);
        Assert.Equal(16, header.CsumOffset);
        Assert.Equal(Segments.TcpPayloadOffset(super), header.HeaderLength);
        Assert.Equal(stream.Sum(p => p.Length - Segments.TcpPayloadOffset(p)) + header.HeaderLength, super.Length);
        if (version == 4)
        {
            Assert.Equal(super.Length, BinaryPrimitives.ReadUInt16BigEndian(super.AsSpan(2)));
            Assert.True(ReferenceChecksum.IPv4HeaderValid(super));
        }
        else
        {
            Assert.Equal(super.Length - 40, BinaryPrimitives.ReadUInt16BigEndian(super.AsSpan(4)));
        }

        Assert.Equal(ReferenceChecksum.Pseudo(super, Segments.Tcp, super.Length - ipLength), BinaryPrimitives.ReadUInt16BigEndian(super.AsSpan(ipLength + 16)));
        Assert.Equal(Segments.Psh, Segments.Flags(super) & Segments.Psh); // the last segment's PSH is kept for the last again

        var again = GsoSplitterTests.Split(header, super);
        Assert.Equal(stream.Length, again.Count);
        for (var i = 0; i < stream.Length; i++)
        {
            Assert.Equal(stream[i], again[i]);
        }
    }

    [Fact]
    public void Interleaved_flows_are_coalesced_each_in_its_own_order()
    {
        var a = Stream(4, 4, lastLength: Mss, sourcePort: 1111);
        var b = Stream(4, 4, lastLength: 10, sourcePort: 2222);
        var c = Stream(6, 4, lastLength: Mss, sourcePort: 1111); // same ports, other family
        var mixed = new List<byte[]>();
        for (var i = 0; i < 4; i++)
        {
            mixed.AddRange([a[i], b[i], c[i]]);
        }

        var coalescer = new TcpCoalescer(128);
        var buffers = Buffers([.. mixed]);
        coalescer.Plan(buffers);

        Assert.Equal(3, coalescer.GroupCount);
        for (var g = 0; g < 3; g++)
        {
            Assert.Equal(4, coalescer.Count(g));
            var expected = new[] { a, b, c }[g];
            var (header, super) = Write(coalescer, buffers, g);
            Assert.Equal(expected, GsoSplitterTests.Split(header, super).ToArray());
        }
    }

    public static TheoryData<string> Breaks() => ["gap", "psh", "short", "cwr", "ack", "window", "options", "ttl", "id", "flow label", "syn", "fin", "rst", "urg", "no payload"];

    [Theory]
    [MemberData(nameof(Breaks))]
    public void A_segment_that_breaks_the_kernels_rules_starts_a_new_group_and_nothing_overtakes_it(string change)
    {
        var version = change == "flow label" ? 6 : 4;
        var stream = Stream(version, 4, lastLength: Mss);
        var second = Segments.Sequence(stream[1]);
        var payload = Segments.Payload(change == "short" ? 100 : Mss, seed: 1);
        stream[1] = change switch
        {
            "gap" => Segments.TcpPacket(version, payload, sequence: second + 1, flags: Segments.Ack, id: 78),
            "psh" => Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack | Segments.Psh, id: 78),
            "short" => Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack, id: 78),
            "cwr" => Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack | Segments.Cwr, id: 78),
            "ack" => Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack, id: 78, ack: 556),
            "window" => Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack, id: 78, window: 513),
            "options" => Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack, id: 78, options: Timestamps),
            "ttl" => Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack, id: 78, ttl: 63),
            "id" => Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack, id: 90, dontFragment: false),
            "flow label" => FlowLabel(Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack)),
            "syn" => Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack | Segments.Syn, id: 78),
            "fin" => Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack | Segments.Fin, id: 78),
            "rst" => Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack | Segments.Rst, id: 78),
            "urg" => Segments.TcpPacket(version, payload, sequence: second, flags: Segments.Ack | Segments.Urg, id: 78),
            "no payload" => Segments.TcpPacket(version, [], sequence: second, flags: Segments.Ack, id: 78),
            _ => throw new ArgumentOutOfRangeException(nameof(change)),
        };
        if (change == "id")
        {
            stream[0] = Segments.TcpPacket(version, Segments.Payload(Mss), sequence: Segments.Sequence(stream[0]), flags: Segments.Ack, id: 77, dontFragment: false);
        }

        var coalescer = new TcpCoalescer(128);
        var buffers = Buffers(stream);
        coalescer.Plan(buffers);

        // PSH and a short segment are taken as a group's last; every other change keeps the segment
        // out of the first group.
        var ends = change is "psh" or "short";
        Assert.Equal(ends ? 2 : 1, coalescer.Count(0));
        Assert.True(coalescer.GroupCount >= 2);
        var written = new List<byte[]>();
        for (var g = 0; g < coalescer.GroupCount; g++)
        {
            var (header, super) = Write(coalescer, buffers, g);
            if (header.GsoType == VirtioNetHeader.GsoNone)
            {
                written.Add(super);
            }
            else
            {
                var parts = GsoSplitterTests.Split(header, super);
                written.AddRange(parts);
            }
        }

        // Written in group order and cut again as the kernel would, the flow is what came in, in order.
        Assert.Equal(stream, written.ToArray());
    }

    [Fact]
    public void Traffic_that_is_not_coalescable_TCP_passes_alone_and_unchanged()
    {
        var fragment = Segments.TcpPacket(4, Segments.Payload(Mss), dontFragment: false);
        fragment[6] |= 0x20;
        var withOptions = Segments.TcpPacket(4, Segments.Payload(Mss));
        var packets = new[]
        {
            Segments.UdpPacket(4, Segments.Payload(1000)),
            Segments.UdpPacket(4, Segments.Payload(1000)),
            Segments.UdpPacket(6, Segments.Payload(1000)),
            Segments.TcpPacket(6, Segments.Payload(Mss), extension: true),
            Segments.TcpPacket(6, Segments.Payload(Mss), sequence: 1000 + Mss, extension: true),
            fragment,
            [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8], // a bare ICMP header
            [1, 2, 3],
        };
        var coalescer = new TcpCoalescer(128);
        var buffers = Buffers(packets);
        var copies = packets.Select(p => (byte[])p.Clone()).ToArray();

        coalescer.Plan(buffers);

        Assert.Equal(packets.Length, coalescer.GroupCount);
        for (var g = 0; g < packets.Length; g++)
        {
            var (header, written) = Write(coalescer, buffers, g);
            Assert.Equal(default, header);
            Assert.Equal(copies[g], written);
        }
    }

    [Fact]
    public void A_group_stops_at_64_segments_and_at_64_KiB()
    {
        var coalescer = new TcpCoalescer(128);
        var small = Stream(4, 100, lastLength: 100, size: 100);
        coalescer.Plan(Buffers(small));
        Assert.Equal(2, coalescer.GroupCount);
        Assert.Equal(TcpCoalescer.MaxSegments, coalescer.Count(0));

        var large = Stream(6, 60, lastLength: 1400, size: 1400);
        var buffers = Buffers(large);
        coalescer.Plan(buffers);
        Assert.Equal(2, coalescer.GroupCount);
        Assert.InRange(Write(coalescer, buffers, 0).Super.Length - 40, 60_000, 65_535);
    }

    [Fact]
    public void Planning_and_finishing_allocate_nothing()
    {
        var stream = Stream(4, 100, lastLength: 500, options: Timestamps);
        var coalescer = new TcpCoalescer(128);
        var buffers = Buffers(stream);
        var heads = buffers.Select(b => b.Data.Slice(b.Offset, 60).ToArray()).ToArray();
        void Round()
        {
            for (var i = 0; i < buffers.Length; i++)
            {
                heads[i].CopyTo(buffers[i].Data[buffers[i].Offset..]); // Finish rewrote the heads
            }

            coalescer.Plan(buffers);
            for (var g = 0; g < coalescer.GroupCount; g++)
            {
                coalescer.Finish(buffers, g);
            }
        }

        // Warmed up past the JIT's tiering (its first compilations may allocate on the calling thread).
        for (var i = 0; i < 500; i++)
        {
            Round();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Round();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>A TCP stream of full segments with consecutive ids, PSH on the last, which is <paramref name="lastLength"/> long.</summary>
    private static byte[][] Stream(int version, int count, int lastLength, byte[]? options = null, ushort sourcePort = 40000, int size = Mss)
    {
        var stream = new byte[count][];
        var sequence = 7000u;
        for (var i = 0; i < count; i++)
        {
            var last = i == count - 1;
            var payload = Segments.Payload(last ? lastLength : size, seed: i);
            stream[i] = Segments.TcpPacket(version, payload, sequence, last ? (byte)(Segments.Ack | Segments.Psh) : Segments.Ack, id: (ushort)(77 + i), options: options, sourcePort: sourcePort);
            sequence += (uint)payload.Length;
        }

        return stream;
    }

    private static byte[] FlowLabel(byte[] packet)
    {
        packet[3] ^= 1;
        return packet;
    }

    private static PacketBuffer[] Buffers(byte[][] packets)
    {
        var buffers = PacketBuffer.AllocateBatch(packets.Length);
        for (var i = 0; i < packets.Length; i++)
        {
            packets[i].CopyTo(buffers[i].Data[Headroom..]);
            buffers[i].Offset = Headroom;
            buffers[i].Length = packets[i].Length;
        }

        return buffers;
    }

    /// <summary>What LinuxTun hands the kernel for group <paramref name="group"/>: the header, then the head and the members' payloads.</summary>
    private static (VirtioNetHeader Header, byte[] Super) Write(TcpCoalescer coalescer, PacketBuffer[] buffers, int group)
    {
        var header = coalescer.Finish(buffers, group);
        var head = coalescer.Head(group);
        var bytes = new List<byte>(buffers[head].Packet.ToArray());
        for (var i = coalescer.Next(head); i >= 0; i = coalescer.Next(i))
        {
            bytes.AddRange(buffers[i].Packet[TcpCoalescer.PayloadOffset(buffers[i].Packet)..].ToArray());
        }

        return (header, bytes.ToArray());
    }
}
