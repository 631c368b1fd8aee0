using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;

namespace Trellis.Net.Tests;

public sealed class LinuxTunTests
{
    private const int Headroom = 16; // Read writes each packet at this offset, as WireGuard's header room
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Create_makes_the_interface_with_the_MTU_and_Close_removes_it()
    {
        using var t = new TestInterface(configure: false);
        Assert.Equal(t.Name, t.Tun.Name);
        Assert.True(t.Tun.Exists);
        Assert.Equal(LinuxTun.DefaultMtu, t.Tun.Mtu);
        Assert.Equal(LinuxTun.DefaultMtu, InterfaceName.GetMtu(t.Name));

        t.Tun.SetMtu(1280);
        Assert.Equal(1280, InterfaceName.GetMtu(t.Name));

        t.Tun.Close();

        Assert.False(LinuxTun.InterfaceExists(t.Name));
        Assert.False(t.Tun.Exists);
        Assert.Equal(0, t.Tun.Read(PacketBuffer.AllocateBatch(1), 0));
        Assert.Throws<ObjectDisposedException>(() => t.Tun.Write(PacketBuffer.AllocateBatch(1)));
    }

    [Fact]
    public async Task Deleting_the_link_underneath_makes_Read_fail_with_the_errno_text()
    {
        using var t = new TestInterface(configure: false);
        var buffers = PacketBuffer.AllocateBatch(2);
        var reader = Within.OnThread(() => Record.Exception(() => t.Tun.Read(buffers, Headroom)));

        Privilege.Ip("link", "del", t.Name);

        Assert.False(t.Tun.Exists);
        var e = Assert.IsType<ErrnoException>(await Within.Complete(reader, Timeout, t.Tun.Close, "Read did not notice the deleted link"));
        Assert.Contains(t.Name, e.Message, StringComparison.Ordinal);
        Assert.Contains("deleted", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Creating_a_second_device_with_a_name_in_use_fails_with_the_errno_text()
    {
        using var t = new TestInterface(configure: false);
        var e = Assert.Throws<ErrnoException>(() => LinuxTun.Create(t.Name));
        Assert.Equal(16, e.Errno); // EBUSY
        Assert.Contains(t.Name, e.Message, StringComparison.Ordinal);
        Assert.Contains("busy", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    public async Task A_UDP_datagram_routed_into_the_TUN_is_read_as_an_IP_packet(int version)
    {
        using var t = new TestInterface();
        var peer = version == 4 ? t.Peer : t.Peer6;
        var payload = "hello through the tun"u8.ToArray();
        using (var socket = new Socket(peer.AddressFamily, SocketType.Dgram, ProtocolType.Udp))
        {
            socket.SendTo(payload, new IPEndPoint(peer, 4242));
        }

        var packet = await ReadUntil(t.Tun, p => IPPackets.Version(p) == version && IPPackets.Protocol(p) == IPPackets.Udp);

        Assert.Equal(version, IPPackets.Version(packet));
        Assert.Equal(peer, IPPackets.Destination(packet));
        Assert.Equal(version == 4 ? t.Local : t.Local6, IPPackets.Source(packet));
        var udp = IPPackets.Transport(packet);
        Assert.Equal(4242, BinaryPrimitives.ReadUInt16BigEndian(udp[2..]));
        Assert.Equal(payload, udp[8..].ToArray());
    }

    [Fact]
    public async Task An_echo_request_written_into_the_TUN_is_answered_by_the_kernel()
    {
        using var t = new TestInterface();
        var packets = PacketBuffer.AllocateBatch(2);

        // A malformed packet first: the kernel refuses it, the batch goes on.
        packets[0].Offset = 0;
        packets[0].Length = 20;
        packets[0].Data.Slice(0, 20).Fill(0xf0);

        packets[1].Offset = Headroom;
        packets[1].Length = IPPackets.WriteIcmpEcho(packets[1].Data.Slice(Headroom), t.Peer, t.Local, IPPackets.EchoRequest, 0x7472, 1, "ping"u8);
        t.Tun.Write(packets);

        Assert.Equal(1, t.Tun.WriteErrors);
        Assert.Equal(22, t.Tun.LastWriteErrno); // EINVAL

        var reply = await ReadUntil(t.Tun, p => IPPackets.IsEchoReply(p, 0x7472, 1));
        Assert.Equal(t.Local, IPPackets.Source(reply));
        Assert.Equal(t.Peer, IPPackets.Destination(reply));
        Assert.Equal("ping"u8.ToArray(), IPPackets.Transport(reply)[8..].ToArray());
        Assert.Equal(0, IPPackets.Checksum(reply.AsSpan(0, 20)));
    }

    [Fact]
    public async Task Close_wakes_a_Read_blocked_on_another_thread()
    {
        using var t = new TestInterface(configure: false); // link down: nothing arrives
        var buffers = PacketBuffer.AllocateBatch(4);
        var tid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = Within.OnThread(() =>
        {
            tid.SetResult(BlockedThread.CurrentTid());
            return t.Tun.Read(buffers, Headroom);
        });

        BlockedThread.WaitUntilBlockedIn(await tid.Task.WaitAsync(Timeout), Timeout, "poll", "ppoll");
        Assert.False(reader.IsCompleted);

        t.Tun.Close();

        Assert.Equal(0, await Within.Complete(reader, Timeout, () => { }, "Read stayed blocked after Close"));
        Assert.False(LinuxTun.InterfaceExists(t.Name)); // the reader's reference was the last one
    }

    [Fact]
    public async Task Steady_state_Read_and_Write_allocate_nothing()
    {
        using var t = new TestInterface();
        const int perRound = 32;
        var requests = PacketBuffer.AllocateBatch(perRound);
        for (var i = 0; i < perRound; i++)
        {
            requests[i].Offset = Headroom;
            requests[i].Length = IPPackets.WriteIcmpEcho(requests[i].Data.Slice(Headroom), t.Peer, t.Local, IPPackets.EchoRequest, 0x6e6f, (ushort)i, "allocation"u8);
        }

        var replies = PacketBuffer.AllocateBatch(t.Tun.BatchSize);
        void Round()
        {
            t.Tun.Write(requests);
            var got = 0;
            while (got < perRound)
            {
                var n = t.Tun.Read(replies, Headroom);
                for (var i = 0; i < n; i++)
                {
                    if (IPPackets.Protocol(replies[i].Packet) == IPPackets.Icmp && IPPackets.Version(replies[i].Packet) == 4)
                    {
                        got++;
                    }
                }
            }
        }

        var measure = Within.AllocatedOverRounds(Round, warmUp: 20, measured: 200);

        var allocated = await Within.Complete(measure, TimeSpan.FromSeconds(60), t.Tun.Close, "200 rounds of echo through the TUN");
        Assert.Equal(0, t.Tun.WriteErrors);
        Assert.Equal(0, allocated);
    }

    /// <summary>Reads (at <see cref="Headroom"/>) until a packet matches, checking Offset and Length on the way.</summary>
    private static Task<byte[]> ReadUntil(LinuxTun tun, Func<byte[], bool> match)
    {
        var reader = Within.OnThread(() =>
        {
            var buffers = PacketBuffer.AllocateBatch(tun.BatchSize);
            while (true)
            {
                var n = tun.Read(buffers, Headroom);
                if (n == 0)
                {
                    return [];
                }

                for (var i = 0; i < n; i++)
                {
                    Assert.Equal(Headroom, buffers[i].Offset);
                    Assert.InRange(buffers[i].Length, 1, tun.Mtu);
                    var packet = buffers[i].Packet.ToArray();
                    if (match(packet))
                    {
                        return packet;
                    }
                }
            }
        });

        return Within.Complete(reader, Timeout, tun.Close, "the expected packet was not read from the TUN");
    }
}
