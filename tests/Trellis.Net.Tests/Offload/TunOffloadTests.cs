using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;

namespace Trellis.Net.Tests.Offload;

/// <summary>Real kernel vectors: what a TUN with offloads hands over arrives as valid, MTU-sized packets.</summary>
public sealed class TunOffloadTests
{
    private const int Headroom = 16;
    private const int UdpSegment = 103; // UDP_SEGMENT: the socket sends one super-datagram, cut at this size

    [Theory]
    [InlineData(4, true)]
    [InlineData(6, true)]
    [InlineData(4, false)]
    public async Task A_segmented_UDP_send_is_read_as_datagrams_with_right_lengths_and_checksums(int version, bool offload)
    {
        using var t = new TestInterface(offload: offload);
        Assert.Equal(offload, (t.Tun.Offloads & TunOffloads.Tso4) != 0);
        var peer = version == 4 ? t.Peer : t.Peer6;
        const int size = 1000;
        var payload = Segments.Payload(7 * size + 123, seed: version);
        using (var socket = new Socket(peer.AddressFamily, SocketType.Dgram, ProtocolType.Udp))
        {
            socket.SetRawSocketOption(IPPackets.Udp, UdpSegment, BitConverter.GetBytes(size));
            socket.SendTo(payload, new IPEndPoint(peer, 4343));
        }

        var received = new List<byte>();
        var reader = Within.OnThread(() =>
        {
            var buffers = PacketBuffer.AllocateBatch(4); // fewer than the datagrams: the rest waits for the next read
            while (received.Count < payload.Length)
            {
                var n = t.Tun.Read(buffers, Headroom);
                for (var i = 0; i < n; i++)
                {
                    var packet = buffers[i].Packet;
                    if (IPPackets.Version(packet) != version || IPPackets.Protocol(packet) != IPPackets.Udp || BinaryPrimitives.ReadUInt16BigEndian(IPPackets.Transport(packet)[2..]) != 4343)
                    {
                        continue; // router solicitations and the like
                    }

                    Assert.Equal(Headroom, buffers[i].Offset);
                    var transport = packet.Length - IPPackets.Transport(packet).Length;
                    Assert.InRange(packet.Length - transport - 8, 1, size);
                    Assert.True(ReferenceChecksum.TransportValid(packet, transport, IPPackets.Udp), "UDP checksum");
                    if (version == 4)
                    {
                        Assert.True(ReferenceChecksum.IPv4HeaderValid(packet));
                    }

                    received.AddRange(packet[(transport + 8)..].ToArray());
                }
            }

            return received.Count;
        });

        Assert.Equal(payload.Length, await Within.Complete(reader, TimeSpan.FromSeconds(10), t.Tun.Close, "the datagrams never arrived"));
        Assert.Equal(payload, received.ToArray());
        Assert.Equal(0, t.Tun.DroppedReads);
    }
}
