using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;
using Trellis.Net.Tests.Netlink;

namespace Trellis.Net.Tests;

/// <summary>
/// UDP segmentation (GSO) and receive merging (GRO) against the real kernel, over loopback; paths
/// with a small MTU in a namespace of their own.
/// </summary>
public sealed class UdpOffloadTests : IDisposable
{
    // Options that turn a socket's UDP checksums off: SO_NO_CHECK (IPv4) and UDP_NO_CHECK6_TX (IPv6),
    // and UDP_NO_CHECK6_RX, which lets an IPv6 receiver take such datagrams.
    private const int SolSocket = 1;
    private const int SoNoCheck = 11;
    private const int SolUdp = 17;
    private const int UdpNoCheck6Tx = 101;
    private const int UdpNoCheck6Rx = 102;

    // A route's MTU below the segments of a run (each a datagram of 1300 bytes plus headers).
    private const string SmallMtu = "1280";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly UdpBind _sender = new(offload: true);
    private readonly UdpBind _receiver = new(offload: true);

    public void Dispose()
    {
        _sender.Dispose();
        _receiver.Dispose();
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task A_run_of_same_size_packets_leaves_as_one_send_and_a_plain_socket_reads_each_datagram(string loopback)
    {
        _sender.Open(0);
        Assert.True(_sender.Segmentation, "this kernel takes UDP_SEGMENT");
        using var plain = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
        plain.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        var to = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(loopback), ((IPEndPoint)plain.LocalEndPoint!).Port));
        int[] sizes = [1200, 1200, 1200, 1200, 1200, 1200, 1200, 1200, 1200, 333];
        var packets = Packets(sizes, to);

        _sender.Send(packets);

        Assert.Equal(1, _sender.SegmentedSends);
        Assert.Equal(0, _sender.SendErrors);
        var buffer = new byte[65536];
        for (var i = 0; i < sizes.Length; i++)
        {
            using var cts = new CancellationTokenSource(Timeout);
            var got = await plain.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.IPv6Any, 0), cts.Token);
            Assert.Equal(sizes[i], got.ReceivedBytes);
            Assert.True(buffer.AsSpan(0, got.ReceivedBytes).SequenceEqual(packets[i].Packet), $"datagram {i} differs");
            Assert.Equal(_sender.Port, ((IPEndPoint)got.RemoteEndPoint).Port);
        }
    }

    [Theory]
    [InlineData("127.0.0.1", SolSocket, SoNoCheck)]
    [InlineData("::1", SolUdp, UdpNoCheck6Tx)]
    public async Task A_socket_whose_segmented_send_is_refused_sends_one_datagram_each_to_everyone_and_loses_nothing_of_its_batch(string loopback, int level, int option)
    {
        const int errno = 22; // EINVAL: the socket's own reason, not a path's
        _sender.Open(0);
        Assert.True(_sender.Segmentation, "this kernel takes UDP_SEGMENT");

        // A real refusal from the real kernel, without root: without UDP checksums it refuses a
        // segmented send and takes plain ones.
        using (var raw = new Socket(new SafeSocketHandle(_sender.OpenSocket!.Fd.Value, ownsHandle: false)))
        {
            raw.SetRawSocketOption(level, option, BitConverter.GetBytes(1));
        }

        var refusals = new List<int>();
        _sender.SegmentationRefused += refusals.Add;
        using var plain = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
        plain.SetRawSocketOption(SolUdp, UdpNoCheck6Rx, BitConverter.GetBytes(1)); // IPv6 drops a zero checksum unless asked not to
        plain.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        var to = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(loopback), ((IPEndPoint)plain.LocalEndPoint!).Port));

        // A lone packet first, so the refused message is not the first of its system call; then two runs.
        var sizes = Enumerable.Repeat(1300, 10).Append(300).Concat(Enumerable.Repeat(1250, 5)).Prepend(500).ToArray();
        var packets = Packets(sizes, to);

        _sender.Send(packets);

        Assert.Equal([errno], refusals);
        Assert.False(_sender.Segmentation);
        Assert.Equal(errno, _sender.SegmentationRefusal);
        await ReceiveEach(plain, packets);

        // The next batch goes one datagram each from the start, with no second refusal.
        _sender.Send(packets);

        await ReceiveEach(plain, packets);
        Assert.Single(refusals);
        Assert.Equal(0, _sender.SegmentedSends);
        Assert.Equal(0, _sender.PathRefusals);
        Assert.Equal(0, _sender.SendErrors);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.2")]
    [InlineData("::1", "fd00:9::2")]
    public async Task A_path_whose_mtu_refuses_a_segmented_send_gets_each_datagram_alone_while_other_destinations_stay_segmented(string fine, string small)
    {
        var clock = new ManualClock();
        using var ns = SmallMtuRoute(small);
        using var sender = new UdpBind(offload: true, time: clock);
        using var toFine = new UdpBind(offload: true);
        using var toSmall = new UdpBind(offload: true);
        var fineEndpoint = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(fine), ns.Run(() => toFine.Open(0))));
        var smallEndpoint = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(small), ns.Run(() => toSmall.Open(0))));
        ns.Run(() => sender.Open(0));
        Assert.True(sender.Segmentation, "this kernel takes UDP_SEGMENT");
        Assert.True(toFine.ReceiveCoalescing && toSmall.ReceiveCoalescing, "this kernel takes UDP_GRO");
        var refusals = new List<int>();
        sender.SegmentationRefused += refusals.Add;

        // Runs for both, interleaved: the refused message is not the first of its system call, and
        // a run to the fine path follows it. 1300-byte datagrams do not fit the small MTU whole.
        var smallSizes = Enumerable.Repeat(1300, 10).Append(300).Concat(Enumerable.Repeat(1300, 8)).ToArray();
        var fineSizes = Enumerable.Repeat(1250, 5).Prepend(500).Concat(Enumerable.Repeat(1300, 9)).ToArray();
        var packets = Interleave(Packets(fineSizes, fineEndpoint), Packets(smallSizes, smallEndpoint));

        sender.Send(packets);

        // The kernel merged the fine path's trains on the way in (loopback keeps a segmented send
        // whole); the small path's datagrams came one by one, each whole and in order.
        Assert.Equal([Errno.EMSGSIZE], refusals);
        await ReceiveInOrder(toFine, packets, fineEndpoint);
        await ReceiveInOrder(toSmall, packets, smallEndpoint);
        Assert.True(toFine.MergedReceives > 0, "the fine path got no segmented train");
        Assert.Equal(0, toSmall.MergedReceives);
        Assert.True(sender.Segmentation);
        Assert.Equal(0, sender.SegmentationRefusal);
        Assert.Equal(1, sender.PathRefusals);

        // The next batch: segmented to the fine path from the start, the small one not even tried.
        var segmented = sender.SegmentedSends;
        var merged = toFine.MergedReceives;
        sender.Send(packets);

        await ReceiveInOrder(toFine, packets, fineEndpoint);
        await ReceiveInOrder(toSmall, packets, smallEndpoint);
        Assert.Equal(segmented + 2, sender.SegmentedSends);
        Assert.True(toFine.MergedReceives > merged, "the fine path got no segmented train");
        Assert.Equal(0, toSmall.MergedReceives);
        Assert.Equal(1, sender.PathRefusals);

        // After a while the small path is tried again: still refused (told no second time), then
        // with the route's MTU back to normal, segmented again.
        clock.Advance(UnsegmentedPaths.RetryAfter);
        sender.Send(packets);

        await ReceiveInOrder(toSmall, packets, smallEndpoint);
        await ReceiveInOrder(toFine, packets, fineEndpoint);
        Assert.Equal(2, sender.PathRefusals);
        Assert.Equal(0, toSmall.MergedReceives);

        ns.Exec("ip", "route", "change", "local", small, "dev", "lo", "table", "local");
        clock.Advance(UnsegmentedPaths.RetryAfter);
        sender.Send(packets);

        await ReceiveInOrder(toSmall, packets, smallEndpoint);
        await ReceiveInOrder(toFine, packets, fineEndpoint);
        Assert.Equal(2, sender.PathRefusals);
        Assert.True(toSmall.MergedReceives > 0, "the recovered path got no segmented train");
        Assert.Single(refusals);
        Assert.Equal(0, sender.SendErrors);
    }

    [Theory]
    [InlineData(128)]
    [InlineData(3)] // fewer buffers than datagrams: the rest come with the next receives
    public async Task A_receiver_with_merging_on_gets_a_train_back_as_each_datagram_whole_and_in_order(int buffers)
    {
        _sender.Open(0);
        var port = _receiver.Open(0);
        Assert.True(_receiver.ReceiveCoalescing, "this kernel takes UDP_GRO");
        var to = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, port));
        var sizes = Enumerable.Repeat(1452, 40).Append(100).Concat(Enumerable.Repeat(80, 7)).ToArray();
        var packets = Packets(sizes, to);

        _sender.Send(packets);

        var received = await Receive(_receiver, sizes.Length, buffers);
        Assert.Equal(sizes, received.Select(r => r.Length));
        for (var i = 0; i < sizes.Length; i++)
        {
            Assert.True(received[i].AsSpan().SequenceEqual(packets[i].Packet), $"datagram {i} differs");
        }

        Assert.True(_receiver.MergedReceives > 0, "the kernel merged nothing: the split was not exercised");
        Assert.Equal(0, _receiver.ReceiveErrors);
        Assert.Equal(0, _sender.SendErrors);
    }

    [Fact]
    public async Task A_receiver_with_merging_on_reads_a_peer_that_never_merges_in_full_batches_and_loses_nothing()
    {
        // A sender without segmentation: on loopback the kernel merges none of its datagrams.
        using var plain = new UdpBind(offload: false);
        plain.Open(0);
        var to = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, _receiver.Open(0)));
        Assert.True(_receiver.ReceiveCoalescing, "this kernel takes UDP_GRO");
        var sizes = Enumerable.Repeat(100, 200).ToArray(); // queued at once: small enough for an unprivileged socket buffer
        var packets = Packets(sizes, to);

        plain.Send(packets);

        var calls = new List<int>();
        var received = await Receive(_receiver, sizes.Length, UdpBind.DefaultBatchSize, calls);
        for (var i = 0; i < sizes.Length; i++)
        {
            Assert.True(received[i].AsSpan().SequenceEqual(packets[i].Packet), $"datagram {i} differs");
        }

        Assert.Equal(0, _receiver.MergedReceives);
        Assert.Equal(0, _receiver.ReceiveErrors);

        // Two per call (the room a merged message might need) only until the streak shows nothing is merged.
        Assert.True(calls.Max() > UdpBind.DefaultBatchSize / UdpGsoRun.MaxSegments, $"receives returned {string.Join(", ", calls)}");
    }

    [Fact]
    public async Task With_offloads_off_each_datagram_is_its_own_message_both_ways()
    {
        using var sender = new UdpBind(offload: false);
        using var receiver = new UdpBind(offload: false);
        sender.Open(0);
        var to = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.IPv6Loopback, receiver.Open(0)));
        Assert.False(sender.Segmentation);
        Assert.False(receiver.ReceiveCoalescing);
        var sizes = Enumerable.Repeat(1000, 20).ToArray();

        sender.Send(Packets(sizes, to));

        Assert.Equal(sizes, (await Receive(receiver, sizes.Length, 128)).Select(r => r.Length));
        Assert.Equal(0, sender.SegmentedSends);
        Assert.Equal(0, receiver.MergedReceives);
    }

    [Fact]
    public async Task Steady_state_segmented_sends_and_merged_receives_allocate_nothing()
    {
        _sender.Open(0);
        var to = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.IPv6Loopback, _receiver.Open(0)));
        var outgoing = Packets(Enumerable.Repeat(1400, _sender.BatchSize).ToArray(), to);
        var incoming = PacketBuffer.AllocateBatch(_receiver.BatchSize);
        void Round()
        {
            _sender.Send(outgoing);
            var got = 0;
            while (got < outgoing.Length)
            {
                got += _receiver.Receive(incoming);
            }
        }

        var measure = Within.AllocatedOverRounds(Round, warmUp: 50, measured: 500, wait: () => EmptyReceive.Woken(_receiver, incoming));

        var allocated = await Within.Complete(measure, TimeSpan.FromSeconds(60), _receiver.Close, "500 segmented batches over loopback");

        Assert.Equal(0, _sender.SendErrors);
        Assert.True(_sender.SegmentedSends > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task Steady_state_sends_past_a_path_that_refused_segmentation_allocate_nothing()
    {
        using var ns = SmallMtuRoute("127.0.0.2");
        using var sender = new UdpBind(offload: true);
        using var toFine = new UdpBind(offload: true);
        using var toSmall = new UdpBind(offload: true);
        var fine = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, ns.Run(() => toFine.Open(0))));
        var small = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("127.0.0.2"), ns.Run(() => toSmall.Open(0))));
        ns.Run(() => sender.Open(0));
        var half = sender.BatchSize / 2;
        var outgoing = Packets(Enumerable.Repeat(1300, half).ToArray(), small).Concat(Packets(Enumerable.Repeat(1400, half).ToArray(), fine)).ToArray();
        var incoming = PacketBuffer.AllocateBatch(sender.BatchSize);
        UdpBind[] receivers = [toSmall, toFine];
        void Round()
        {
            sender.Send(outgoing);
            foreach (var receiver in receivers)
            {
                var got = 0;
                while (got < half)
                {
                    got += receiver.Receive(incoming);
                }
            }
        }

        // The first round's refusal (and the event) come before the measure.
        var measure = Within.AllocatedOverRounds(Round, warmUp: 50, measured: 500, wait: () => EmptyReceive.Woken(receivers, incoming));

        var allocated = await Within.Complete(measure, TimeSpan.FromSeconds(60), () =>
        {
            toSmall.Close();
            toFine.Close();
        }, "500 batches to two paths over loopback");

        Assert.Equal(0, sender.SendErrors);
        Assert.Equal(1, sender.PathRefusals);
        Assert.True(sender.SegmentedSends >= 500, $"{sender.SegmentedSends} segmented sends");
        Assert.Equal(0, toSmall.MergedReceives);
        Assert.Equal(0, allocated);
    }

    /// <summary>
    /// A namespace of its own whose loopback has a route with a small MTU to <paramref name="small"/>,
    /// as a peer behind a link with a smaller MTU (or a path MTU the kernel learned) has.
    /// </summary>
    private static IsolatedNamespace SmallMtuRoute(string small)
    {
        var ns = new IsolatedNamespace();
        try
        {
            ns.Exec("ip", "link", "set", "lo", "up");
            ns.Exec("ip", "route", "add", "local", small, "dev", "lo", "table", "local", "mtu", SmallMtu);
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    /// <summary>The packets of both lists, alternating run by run in chunks as a sender's batch mixes peers.</summary>
    private static PacketBuffer[] Interleave(PacketBuffer[] a, PacketBuffer[] b) =>
        [a[0], .. b[..11], .. a[1..6], .. b[11..], .. a[6..]];

    /// <summary>Receives those of <paramref name="packets"/> sent to <paramref name="to"/>, each whole and in order.</summary>
    private static async Task ReceiveInOrder(UdpBind receiver, PacketBuffer[] packets, Endpoint to)
    {
        var expected = packets.Where(p => p.Endpoint == to).ToArray();
        var received = await Receive(receiver, expected.Length, UdpBind.DefaultBatchSize);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(received[i].AsSpan().SequenceEqual(expected[i].Packet), $"datagram {i} of {expected.Length} to {to.ToIPEndPoint()} differs");
        }
    }

    /// <summary>Reads each of <paramref name="packets"/> from a plain socket, whole and in order.</summary>
    private static async Task ReceiveEach(Socket plain, PacketBuffer[] packets)
    {
        var buffer = new byte[65536];
        for (var i = 0; i < packets.Length; i++)
        {
            using var cts = new CancellationTokenSource(Timeout);
            var got = await plain.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.IPv6Any, 0), cts.Token);
            Assert.True(buffer.AsSpan(0, got.ReceivedBytes).SequenceEqual(packets[i].Packet), $"datagram {i} of {packets.Length} differs or is missing");
        }
    }

    private static PacketBuffer[] Packets(int[] sizes, Endpoint to)
    {
        var packets = PacketBuffer.AllocateBatch(sizes.Length);
        for (var i = 0; i < sizes.Length; i++)
        {
            var buffer = packets[i];
            buffer.Offset = 0;
            buffer.Length = sizes[i];
            for (var j = 0; j < sizes[i]; j++)
            {
                buffer.Data[j] = (byte)((i * 31) + j);
            }

            buffer.Endpoint = to;
        }

        return packets;
    }

    /// <summary>Receives exactly <paramref name="count"/> datagrams (copied out) with spans of <paramref name="buffers"/>.</summary>
    private static async Task<List<byte[]>> Receive(UdpBind bind, int count, int buffers, List<int>? calls = null)
    {
        var task = Within.OnThread(() =>
        {
            var result = new List<byte[]>();
            var span = PacketBuffer.AllocateBatch(buffers);
            while (result.Count < count)
            {
                var n = bind.Receive(span);
                if (n == 0)
                {
                    break;
                }

                calls?.Add(n);

                result.AddRange(span[..n].Select(b => b.Packet.ToArray()));
            }

            return result;
        });

        var received = await Within.Complete(task, Timeout, bind.Close, $"expected {count} datagrams");
        Assert.Equal(count, received.Count);
        return received;
    }
}
