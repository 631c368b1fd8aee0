using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;

namespace Trellis.Net.Tests.Offload;

/// <summary>The kernel takes coalesced TCP segments written to a TUN with offloads as one packet and delivers their bytes in order.</summary>
public sealed class TunCoalescingTests
{
    private const int Headroom = 16;
    private const int Segments10 = 10;
    private const int SegmentSize = 1000;
    private const ushort ClientPort = 40001;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Ten_in_order_segments_reach_a_local_socket_in_one_write_with_offloads_and_ten_without(bool offload)
    {
        using var t = new TestInterface(offload: offload);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(t.Local, 0));
        listener.Listen();
        var port = (ushort)((IPEndPoint)listener.LocalEndPoint!).Port;
        var addresses = t.Peer.GetAddressBytes().Concat(t.Local.GetAddressBytes()).ToArray();
        const uint clientIsn = 0x1000;

        // The handshake, played by hand from the peer's address: SYN (MSS 1460), read SYN-ACK, ACK.
        Write(t.Tun, Segments.TcpPacket(4, [], clientIsn, Segments.Syn, id: 1, options: [2, 4, 0x05, 0xb4], sourcePort: ClientPort, destinationPort: port, ack: 0, window: 65535, addresses: addresses));
        var synAck = await ReadSynAck(t.Tun, port);
        var serverIsn = Segments.Sequence(synAck);
        Write(t.Tun, Segments.TcpPacket(4, [], clientIsn + 1, Segments.Ack, id: 2, sourcePort: ClientPort, destinationPort: port, ack: serverIsn + 1, window: 65535, addresses: addresses));
        using var accepted = await listener.AcceptAsync().WaitAsync(Timeout);

        var payload = Segments.Payload(Segments10 * SegmentSize, seed: 9);
        var batch = PacketBuffer.AllocateBatch(Segments10);
        for (var i = 0; i < Segments10; i++)
        {
            var flags = i == Segments10 - 1 ? (byte)(Segments.Ack | Segments.Psh) : Segments.Ack;
            var packet = Segments.TcpPacket(
                4, payload.AsSpan(i * SegmentSize, SegmentSize), clientIsn + 1 + (uint)(i * SegmentSize), flags, id: (ushort)(3 + i),
                sourcePort: ClientPort, destinationPort: port, ack: serverIsn + 1, window: 65535, addresses: addresses);
            packet.CopyTo(batch[i].Data[Headroom..]);
            batch[i].Offset = Headroom;
            batch[i].Length = packet.Length;
        }

        var before = ReceivedPackets(t.Name);
        t.Tun.Write(batch);
        var after = ReceivedPackets(t.Name);

        var received = new byte[payload.Length];
        var got = 0;
        while (got < received.Length)
        {
            var n = await accepted.ReceiveAsync(received.AsMemory(got)).AsTask().WaitAsync(Timeout);
            Assert.NotEqual(0, n);
            got += n;
        }

        Assert.Equal(payload, received);
        Assert.Equal(0, t.Tun.WriteErrors);
        Assert.Equal(offload ? 1 : Segments10, after - before); // what `ip -s link` counts: one super-packet
    }

    private static void Write(LinuxTun tun, byte[] packet)
    {
        var buffer = new PacketBuffer { Offset = Headroom, Length = packet.Length };
        packet.CopyTo(buffer.Data[Headroom..]);
        tun.Write([buffer]);
    }

    private static Task<byte[]> ReadSynAck(LinuxTun tun, ushort port)
    {
        var reader = Within.OnThread(() =>
        {
            var buffers = PacketBuffer.AllocateBatch(tun.BatchSize);
            while (true)
            {
                var n = tun.Read(buffers, Headroom);
                for (var i = 0; i < n; i++)
                {
                    var p = buffers[i].Packet;
                    if (IPPackets.Version(p) == 4 && IPPackets.Protocol(p) == Segments.Tcp
                        && BinaryPrimitives.ReadUInt16BigEndian(IPPackets.Transport(p)) == port
                        && (Segments.Flags(p) & (Segments.Syn | Segments.Ack)) == (Segments.Syn | Segments.Ack))
                    {
                        return p.ToArray();
                    }
                }
            }
        });
        return Within.Complete(reader, Timeout, tun.Close, "no SYN-ACK from the kernel");
    }

    private static long ReceivedPackets(string name) =>
        long.Parse(File.ReadAllText($"/sys/class/net/{name}/statistics/rx_packets").Trim(), System.Globalization.CultureInfo.InvariantCulture);
}
