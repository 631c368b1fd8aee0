using System.Net;
using Trellis.Core.Transport;

namespace Trellis.Net.Tests;

public sealed class UdpGsoRunTests
{
    private static readonly Endpoint Peer = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 51820));
    private static readonly Endpoint Other = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("192.0.2.2"), 51820));

    [Fact]
    public void Same_size_packets_to_one_peer_go_together_and_a_shorter_one_ends_the_run()
    {
        var packets = Packets(1452, 1452, 1452, 700, 1452);
        Assert.Equal(4, UdpGsoRun.Length(packets));
        Assert.Equal(1, UdpGsoRun.Length(packets.AsSpan(4)));
    }

    [Fact]
    public void A_larger_packet_another_destination_or_another_source_starts_a_new_run()
    {
        Assert.Equal(2, UdpGsoRun.Length(Packets(1000, 1000, 1001)));

        var toOther = Packets(1000, 1000, 1000);
        toOther[2].Endpoint = Other;
        Assert.Equal(2, UdpGsoRun.Length(toOther));

        var fromElsewhere = Packets(1000, 1000, 1000);
        fromElsewhere[1].Local = new LocalAddress(Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("198.51.100.9"), 1)).Address);
        Assert.Equal(1, UdpGsoRun.Length(fromElsewhere));
    }

    [Fact]
    public void A_run_stops_at_the_segment_limit_and_at_the_payload_limit()
    {
        Assert.Equal(UdpGsoRun.MaxSegments, UdpGsoRun.Length(Packets(Enumerable.Repeat(100, 100).ToArray())));

        // 45 x 1452 = 65340 fits the IPv4 payload limit of 65507; a 46th would not.
        var big = UdpGsoRun.Length(Packets(Enumerable.Repeat(1452, 60).ToArray()));
        Assert.Equal(45, big);
        Assert.True(big * 1452 <= UdpGsoRun.MaxPayload);
    }

    [Fact]
    public void Empty_or_malformed_packets_go_alone()
    {
        Assert.Equal(1, UdpGsoRun.Length(Packets(0, 0, 0)));
        Assert.Equal(1, UdpGsoRun.Length(Packets(100, 0, 100)));

        var bad = Packets(100, 100, 100);
        bad[1].Offset = PacketBuffer.Capacity - 10; // would reach past the array
        Assert.Equal(1, UdpGsoRun.Length(bad));
        Assert.Equal(0, UdpGsoRun.Length([]));
    }

    private static PacketBuffer[] Packets(params int[] sizes)
    {
        var packets = PacketBuffer.AllocateBatch(sizes.Length);
        for (var i = 0; i < sizes.Length; i++)
        {
            packets[i].Length = sizes[i];
            packets[i].Endpoint = Peer;
        }

        return packets;
    }
}
