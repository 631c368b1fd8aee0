using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;

namespace Trellis.Net.Tests;

public sealed class UdpBindTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    // Sizes across the range: empty, tiny, around common MTUs, jumbo, and the IPv4 UDP maximum.
    private static readonly int[] Sizes = [0, 1, 2, 28, 100, 576, 1279, 1280, 1420, 1500, 4000, 8972, 9000, 16384, 32768, 65507];

    private readonly UdpBind _a = new();
    private readonly UdpBind _b = new();

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Theory]
    [InlineData("::1")]
    [InlineData("127.0.0.1")]
    public async Task A_batch_of_varied_sizes_arrives_whole_with_the_right_source(string loopback)
    {
        var portA = _a.Open(0);
        var portB = _b.Open(0);
        Assert.NotEqual(0, portA);
        Assert.NotEqual(portA, portB);
        Assert.True(_a.IsDualStack);

        var to = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(loopback), portB));
        var outgoing = PacketBuffer.AllocateBatch(Sizes.Length * 2);
        for (var i = 0; i < outgoing.Length; i++)
        {
            Fill(outgoing[i], i, Sizes[i % Sizes.Length], to);
        }

        _a.Send(outgoing);
        var received = await ReceiveExactly(_b, outgoing.Length);

        Assert.Equal(0, _a.SendErrors);
        for (var i = 0; i < outgoing.Length; i++)
        {
            Assert.Equal(Sizes[i % Sizes.Length], received[i].Length);
            Assert.True(received[i].Packet.AsSpan().SequenceEqual(outgoing[i].Packet), $"packet {i} differs");
            Assert.Equal(portA, received[i].Endpoint.Port);
            Assert.Equal(loopback, received[i].Endpoint.ToIPAddress().ToString());
            Assert.Equal(loopback == "127.0.0.1", received[i].Endpoint.IsIPv4);
        }
    }

    [Theory]
    [InlineData(true, "127.0.0.2", "127.0.0.3")]
    [InlineData(false, "127.0.0.2", "127.0.0.3")]
    [InlineData(true, "::1", "::1")]
    public async Task Each_datagram_reports_the_address_it_came_to_and_a_reply_leaves_from_it(bool dualStack, string to, string replyFrom)
    {
        using var a = new UdpBind(dualStack);
        a.Open(0);
        var portB = _b.Open(0);
        var packets = PacketBuffer.AllocateBatch(1);
        Fill(packets[0], 0, 100, Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(to), portB)));
        a.Send(packets);
        var arrived = Assert.Single(await ReceiveExactly(_b, 1));
        Assert.Equal(to, arrived.Local.ToString());

        // The kernel would answer 127.0.0.1 from 127.0.0.1; a source asked for wins.
        Fill(packets[0], 1, 100, arrived.Endpoint);
        packets[0].Local = new LocalAddress(Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(replyFrom), 1)).Address);
        _b.Send(packets);
        var reply = Assert.Single(await ReceiveExactly(a, 1));
        Assert.Equal(replyFrom, reply.Endpoint.ToIPAddress().ToString());
        Assert.Equal(portB, reply.Endpoint.Port);
        Assert.Equal(0, _b.SendErrors);
    }

    [Fact]
    public async Task A_source_that_is_no_longer_ours_is_forgotten_and_the_packets_still_go()
    {
        _a.Open(0);
        var portB = _b.Open(0);
        var packets = PacketBuffer.AllocateBatch(3);
        var gone = new LocalAddress(Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("192.0.2.77"), 1)).Address);
        for (var i = 0; i < packets.Length; i++)
        {
            Fill(packets[i], i, 100 + i, Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, portB)));
            packets[i].Local = gone;
        }

        _a.Send(packets);
        var received = await ReceiveExactly(_b, 3);
        Assert.All(received, r => Assert.Equal("127.0.0.1", r.Endpoint.ToIPAddress().ToString()));
        Assert.Equal(0, _a.SendErrors);
        Assert.Equal(1, _a.SourcesForgotten);
    }

    [Fact]
    public async Task An_IPv4_only_bind_talks_to_IPv4_and_counts_IPv6_destinations_as_dropped()
    {
        using var v4 = new UdpBind(dualStack: false);
        var portV4 = v4.Open(0);
        var portB = _b.Open(0);
        Assert.False(v4.IsDualStack);

        var packets = PacketBuffer.AllocateBatch(3);
        Fill(packets[0], 0, 100, Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, portB)));
        Fill(packets[1], 1, 100, Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.IPv6Loopback, portB)));
        Fill(packets[2], 2, 200, Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, portB)));
        v4.Send(packets);

        var received = await ReceiveExactly(_b, 2);
        Assert.Equal(1, v4.SendErrors);
        Assert.Equal([100, 200], received.Select(p => p.Length));
        Assert.All(received, p => Assert.Equal($"127.0.0.1:{portV4}", p.Endpoint.ToString()));
    }

    [Fact]
    public async Task A_packet_the_kernel_refuses_is_counted_and_the_rest_of_the_batch_still_goes()
    {
        _a.Open(0);
        var portB = _b.Open(0);
        var good = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, portB));
        var packets = PacketBuffer.AllocateBatch(4);
        Fill(packets[0], 0, 10, good);
        Fill(packets[1], 1, 10, Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Broadcast, 9))); // EACCES without SO_BROADCAST
        Fill(packets[2], 2, 10, default); // no destination at all
        Fill(packets[3], 3, 30, good);

        _a.Send(packets);

        var received = await ReceiveExactly(_b, 2);
        Assert.Equal([10, 30], received.Select(p => p.Length));
        Assert.Equal(2, _a.SendErrors);
        Assert.Equal(13, _a.LastSendErrno); // EACCES
    }

    [Fact]
    public async Task Several_threads_can_send_at_once_without_mixing_up_their_batches()
    {
        _a.Open(0);
        var to = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.IPv6Loopback, _b.Open(0)));
        const int threads = 4, batches = 50, perBatch = 8, total = threads * batches * perBatch;

        // Small enough (1600 x 200 bytes) to sit in the receive buffer even before anyone drains it.
        var senders = Enumerable.Range(0, threads).Select(thread => Within.OnThread(() =>
        {
            var packets = PacketBuffer.AllocateBatch(perBatch);
            for (var batch = 0; batch < batches; batch++)
            {
                for (var i = 0; i < perBatch; i++)
                {
                    Fill(packets[i], (thread * batches * perBatch) + (batch * perBatch) + i, 200, to);
                }

                _a.Send(packets);
            }

            return true;
        })).ToArray();
        await Task.WhenAll(senders).WaitAsync(Timeout);

        var received = await ReceiveExactly(_b, total);
        var expected = new PacketBuffer();
        var seen = new HashSet<int>();
        foreach (var r in received)
        {
            var index = BitConverter.ToInt32(r.Packet);
            Assert.InRange(index, 0, total - 1);
            Assert.True(seen.Add(index), $"datagram {index} arrived twice");
            Fill(expected, index, 200, to);
            Assert.True(r.Packet.AsSpan().SequenceEqual(expected.Packet), $"datagram {index}'s bytes were mixed up");
        }

        Assert.Equal(0, _a.SendErrors);
    }

    [Fact]
    public async Task Close_wakes_a_Receive_blocked_on_another_thread()
    {
        _a.Open(0);
        var buffers = PacketBuffer.AllocateBatch(4);
        var tid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiver = Within.OnThread(() =>
        {
            tid.SetResult(BlockedThread.CurrentTid());
            return _a.Receive(buffers);
        });

        BlockedThread.WaitUntilBlockedIn(await tid.Task.WaitAsync(Timeout), Timeout, "poll", "ppoll");
        Assert.False(receiver.IsCompleted);

        _a.Close();

        var n = await Within.Complete(receiver, Timeout, () => { }, "Receive stayed blocked after Close");
        Assert.Equal(0, n);
        Assert.Equal(0, _a.Port);
    }

    [Fact]
    public async Task Reopening_under_a_blocked_receiver_ends_it_and_the_next_receiver_gets_traffic()
    {
        var oldPort = _a.Open(0);
        var tid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var oldBuffers = PacketBuffer.AllocateBatch(4);
        var oldReceiver = Within.OnThread(() =>
        {
            tid.SetResult(BlockedThread.CurrentTid());
            return _a.Receive(oldBuffers);
        });
        BlockedThread.WaitUntilBlockedIn(await tid.Task.WaitAsync(Timeout), Timeout, "poll", "ppoll");

        var newPort = _a.Open(0);

        Assert.Equal(0, await Within.Complete(oldReceiver, Timeout, () => { }, "the receiver of the replaced socket stayed blocked"));
        _b.Open(0);
        var packet = PacketBuffer.AllocateBatch(1);
        Fill(packet[0], 1, 99, Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, newPort)));
        _b.Send(packet);
        Assert.Equal(99, (await ReceiveExactly(_a, 1))[0].Length);
        Assert.NotEqual(0, oldPort);
    }

    [Fact]
    public void Receive_on_a_closed_or_never_opened_bind_returns_zero_at_once()
    {
        var buffers = PacketBuffer.AllocateBatch(2);
        Assert.Equal(0, _a.Receive(buffers));
        _a.Open(0);
        _a.Close();
        Assert.Equal(0, _a.Receive(buffers));

        _a.Send(buffers); // dropped and counted, not thrown
        Assert.Equal(2, _a.SendErrors);
    }

    [Fact]
    public async Task Open_again_closes_the_old_socket_first_so_the_same_port_can_be_reused()
    {
        var port = _a.Open(0);
        Assert.Equal(port, _a.Open(port));
        Assert.Equal(port, _a.Port);

        // And the reopened socket works.
        var portB = _b.Open(0);
        var packet = PacketBuffer.AllocateBatch(1);
        Fill(packet[0], 7, 64, Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.IPv6Loopback, port)));
        _b.Send(packet);
        var received = await ReceiveExactly(_a, 1);
        Assert.Equal(portB, received[0].Endpoint.Port);
    }

    [Fact]
    public void A_port_in_use_fails_with_the_errno_text()
    {
        using var holder = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        holder.DualMode = true;
        holder.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        var port = (ushort)((IPEndPoint)holder.LocalEndPoint!).Port;

        var e = Assert.Throws<ErrnoException>(() => _a.Open(port));
        Assert.Equal(98, e.Errno); // EADDRINUSE
        Assert.Contains("in use", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetMark_applies_as_root_and_survives_reopen()
    {
        Privilege.RequireRoot();
        _a.SetMark(0x5452);
        _a.Open(0);
        _a.SetMark(0);
        _a.SetMark(0x5453);
        _a.Open(0);
    }

    [Fact]
    public async Task Steady_state_Send_and_Receive_allocate_nothing()
    {
        _a.Open(0);
        var portB = _b.Open(0);
        var to = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.IPv6Loopback, portB));
        var outgoing = PacketBuffer.AllocateBatch(_a.BatchSize);
        for (var i = 0; i < outgoing.Length; i++)
        {
            Fill(outgoing[i], i, 64 + i, to);
        }

        var incoming = PacketBuffer.AllocateBatch(_b.BatchSize);
        void Round()
        {
            _a.Send(outgoing);
            var got = 0;
            while (got < outgoing.Length)
            {
                got += _b.Receive(incoming);
            }
        }

        // One thread does both sides, so the per-thread counter sees every byte either side allocates.
        var measure = Within.AllocatedOverRounds(Round, warmUp: 100, measured: 1000, wait: () => EmptyReceive.Woken(_b, incoming));

        // A lost datagram would leave Receive waiting forever; closing the bind frees the thread.
        var allocated = await Within.Complete(measure, TimeSpan.FromSeconds(60), _b.Close, "1000 batches over loopback");

        Assert.Equal(0, _a.SendErrors);
        Assert.Equal(0, allocated);
    }

    private static void Fill(PacketBuffer buffer, int index, int size, Endpoint to)
    {
        buffer.Offset = 0;
        buffer.Length = size;
        for (var j = 0; j < size; j++)
        {
            buffer.Data[j] = (byte)(index * 31 + j);
        }

        if (size >= sizeof(int))
        {
            BitConverter.TryWriteBytes(buffer.Data, index); // so a receiver can tell which packet it got
        }

        buffer.Endpoint = to;
    }

    /// <summary>Receives exactly <paramref name="count"/> datagrams (copied out), failing instead of hanging.</summary>
    [Fact]
    public async Task WakeReceiver_ends_a_blocked_receive_with_no_packets_and_the_bind_keeps_working()
    {
        _a.Open(0);
        var portB = _b.Open(0);
        var buffers = PacketBuffer.AllocateBatch(_b.BatchSize);

        // Woken while waiting on a quiet socket: 0 packets, with no datagram sent to it.
        var tid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocked = Within.OnThread(() =>
        {
            tid.SetResult(BlockedThread.CurrentTid());
            return _b.Receive(buffers);
        });
        BlockedThread.WaitUntilBlockedIn(await tid.Task.WaitAsync(Timeout), Timeout, "poll", "ppoll");
        _b.WakeReceiver();
        Assert.Equal(0, await Within.Complete(blocked, Timeout, _b.Close, "the woken receive to return"));

        // Woken before it waits: the next receive returns at once, the one after gets the datagram.
        _b.WakeReceiver();
        Assert.Equal(0, await Within.Complete(Within.OnThread(() => _b.Receive(buffers)), Timeout, _b.Close, "a receive with a wake-up pending"));
        var packet = PacketBuffer.AllocateBatch(1);
        Fill(packet[0], 0, 100, Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, portB)));
        _a.Send(packet);
        var received = await ReceiveExactly(_b, 1);
        Assert.Equal(100, received[0].Length);
    }

    private static async Task<List<Received>> ReceiveExactly(UdpBind bind, int count)
    {
        var task = Within.OnThread(
            () =>
            {
                var result = new List<Received>();
                var buffers = PacketBuffer.AllocateBatch(bind.BatchSize);
                while (result.Count < count)
                {
                    var n = bind.Receive(buffers);
                    if (n == 0)
                    {
                        break;
                    }

                    for (var i = 0; i < n; i++)
                    {
                        result.Add(new Received(buffers[i].Length, buffers[i].Packet.ToArray(), buffers[i].Endpoint, buffers[i].Local));
                    }
                }

                return result;
            });

        var received = await Within.Complete(task, Timeout, bind.Close, $"expected {count} datagrams");
        Assert.Equal(count, received.Count);
        return received;
    }

    private sealed record Received(int Length, byte[] Packet, Endpoint Endpoint, LocalAddress Local);
}
