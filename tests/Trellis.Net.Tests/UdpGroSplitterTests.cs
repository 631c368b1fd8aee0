using System.Net;
using Trellis.Core.Transport;

namespace Trellis.Net.Tests;

public sealed class UdpGroSplitterTests
{
    private static readonly Endpoint From = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 51820));
    private static readonly Endpoint OtherFrom = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("2001:db8::7"), 4242));
    private static readonly LocalAddress To = new(Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("198.51.100.2"), 1)).Address);

    [Fact]
    public void A_merged_buffer_with_a_short_last_datagram_comes_out_as_each_datagram_in_order()
    {
        var packets = PacketBuffer.AllocateBatch(8);
        var datagrams = Datagrams(first: 0, count: 4, size: 100, lastSize: 37);
        Merge(packets[0], datagrams, From);

        var count = UdpGroSplitter.Split(packets, 1, [100], new GroRemainder(), out var dropped);

        Assert.Equal(0, dropped);
        AssertDelivered(packets, count, datagrams, From);
    }

    [Fact]
    public void A_buffer_of_one_datagram_stays_as_it_is()
    {
        var packets = PacketBuffer.AllocateBatch(4);
        var datagrams = Datagrams(first: 0, count: 1, size: 100, lastSize: 100);
        Merge(packets[0], datagrams, From);

        // The kernel reports the size even when only one datagram was merged; or no size at all.
        Assert.Equal(1, UdpGroSplitter.Split(packets, 1, [100], new GroRemainder(), out _));
        AssertDelivered(packets, 1, datagrams, From);
        Assert.Equal(1, UdpGroSplitter.Split(packets, 1, [0], new GroRemainder(), out _));
        AssertDelivered(packets, 1, datagrams, From);
    }

    [Fact]
    public void Several_merged_and_plain_buffers_spread_out_without_overwriting_each_other()
    {
        var packets = PacketBuffer.AllocateBatch(16);
        var first = Datagrams(first: 0, count: 3, size: 200, lastSize: 200);
        var plain = Datagrams(first: 3, count: 1, size: 50, lastSize: 50);
        var third = Datagrams(first: 4, count: 5, size: 64, lastSize: 9);
        Merge(packets[0], first, From);
        Merge(packets[1], plain, OtherFrom);
        Merge(packets[2], third, From);

        var count = UdpGroSplitter.Split(packets, 3, [200, 0, 64], new GroRemainder(), out var dropped);

        Assert.Equal(0, dropped);
        Assert.Equal(9, count);
        AssertDelivered(packets, 3, first, From);
        AssertDelivered(packets.AsSpan(3), 1, plain, OtherFrom);
        AssertDelivered(packets.AsSpan(4), 5, third, From);
    }

    [Fact]
    public void Datagrams_that_do_not_fit_are_kept_for_the_next_receive()
    {
        var packets = PacketBuffer.AllocateBatch(3);
        var datagrams = Datagrams(first: 0, count: 7, size: 120, lastSize: 5);
        Merge(packets[0], datagrams, From);
        var remainder = new GroRemainder();

        var got = new List<byte[]>();
        var count = UdpGroSplitter.Split(packets, 1, [120], remainder, out var dropped);
        Assert.Equal(0, dropped);
        got.AddRange(packets[..count].Select(p => p.Packet.ToArray()));
        while (!remainder.IsEmpty)
        {
            var drained = remainder.Drain(packets);
            Assert.InRange(drained, 1, packets.Length);
            Assert.All(packets[..drained], p => Assert.Equal(From, p.Endpoint));
            Assert.All(packets[..drained], p => Assert.Equal(To, p.Local));
            got.AddRange(packets[..drained].Select(p => p.Packet.ToArray()));
        }

        Assert.Equal(datagrams, got);
        Assert.Equal(0, remainder.Drain(packets));
    }

    [Fact]
    public void What_overflows_while_the_remainder_is_taken_is_dropped_and_counted()
    {
        var packets = PacketBuffer.AllocateBatch(4);
        var remainder = new GroRemainder();
        var source = PacketBuffer.AllocateBatch(1)[0];
        Merge(source, Datagrams(first: 90, count: 2, size: 10, lastSize: 10), From);
        remainder.Keep(source, 0, 10);

        // Two merged buffers of 3 in a span of 4: the second's last two have nowhere to go.
        Merge(packets[0], Datagrams(first: 0, count: 3, size: 10, lastSize: 10), From);
        Merge(packets[1], Datagrams(first: 3, count: 3, size: 10, lastSize: 10), From);
        var count = UdpGroSplitter.Split(packets, 2, [10, 10], remainder, out var dropped);

        Assert.Equal(4, count);
        Assert.Equal(2, dropped);
        Assert.Equal([0, 1, 2, 3], packets.Select(p => (int)p.Data[0]));
    }

    [Fact]
    public void An_empty_datagram_counts_as_one()
    {
        Assert.Equal(1, UdpGroSplitter.Segments(0, 100));
        Assert.Equal(1, UdpGroSplitter.Segments(0, 0));
        Assert.Equal(3, UdpGroSplitter.Segments(201, 100));
        Assert.Equal(2, UdpGroSplitter.Segments(200, 100));
    }

    /// <summary>Datagrams whose bytes tell them apart: the first byte is the datagram's number.</summary>
    private static List<byte[]> Datagrams(int first, int count, int size, int lastSize) =>
        Enumerable.Range(0, count)
            .Select(i => Enumerable.Range(0, i == count - 1 ? lastSize : size).Select(j => (byte)(j == 0 ? first + i : j * 7)).ToArray())
            .ToList();

    /// <summary>Lays datagrams end to end in one buffer, as UDP_GRO delivers them.</summary>
    private static void Merge(PacketBuffer buffer, List<byte[]> datagrams, Endpoint from)
    {
        var offset = 0;
        foreach (var d in datagrams)
        {
            d.CopyTo(buffer.Data[offset..]);
            offset += d.Length;
        }

        buffer.Offset = 0;
        buffer.Length = offset;
        buffer.Endpoint = from;
        buffer.Local = To;
    }

    private static void AssertDelivered(ReadOnlySpan<PacketBuffer> packets, int count, List<byte[]> datagrams, Endpoint from)
    {
        Assert.True(count >= datagrams.Count, $"{count} delivered, {datagrams.Count} expected");
        for (var i = 0; i < datagrams.Count; i++)
        {
            Assert.Equal(datagrams[i], packets[i].Packet.ToArray());
            Assert.Equal(from, packets[i].Endpoint);
            Assert.Equal(To, packets[i].Local);
        }
    }
}
