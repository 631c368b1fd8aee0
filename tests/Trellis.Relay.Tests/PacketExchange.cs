using System.Buffers.Binary;
using Trellis.Relay.Client;

namespace Trellis.Relay.Tests;

/// <summary>Sends numbered packets of known content from one client to another and checks every byte and the order.</summary>
internal static class PacketExchange
{
    public static byte[] Packet(int index, int size, int seed)
    {
        var packet = new byte[size];
        new Random(HashCode.Combine(index, seed)).NextBytes(packet);
        if (size >= 4)
        {
            BinaryPrimitives.WriteInt32BigEndian(packet, index);
        }

        return packet;
    }

    public static int SizeOf(int index) => index % 50 == 49 ? 60_000 : index % 7 * 200;

    public static async Task OneWayAsync(RelayClient from, RelayClient to, int count, int seed, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        var receive = ReceiveAsync(from, to, count, seed, cancel.Token);
        for (var i = 0; i < count; i++)
        {
            Assert.True(await from.SendAsync(to.PublicKey, Packet(i, SizeOf(i), seed), cancel.Token), $"packet {i} not queued");
        }

        await receive;
    }

    public static Task BothWaysAsync(RelayClient a, RelayClient b, int count, int seed = 1) =>
        Task.WhenAll(OneWayAsync(a, b, count, seed), OneWayAsync(b, a, count, seed + 1));

    /// <summary>One packet in flight at a time, echoed back: nothing can be dropped for queue space.</summary>
    public static async Task EchoAsync(RelayClient a, RelayClient b, int rounds, int seed = 9)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        for (var i = 0; i < rounds; i++)
        {
            var sent = Packet(i, 1 + (i % 1400), seed);
            Assert.True(await a.SendAsync(b.PublicKey, sent, cancel.Token));
            using (var there = await b.Packets.ReadAsync(cancel.Token))
            {
                Assert.Equal(a.PublicKey, there.Source);
                Assert.True(await b.SendAsync(a.PublicKey, there.Data, cancel.Token));
            }

            using var back = await a.Packets.ReadAsync(cancel.Token);
            Assert.True(sent.AsSpan().SequenceEqual(back.Span), $"round {i} came back different");
        }
    }

    private static async Task ReceiveAsync(RelayClient from, RelayClient to, int count, int seed, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            using var packet = await to.Packets.ReadAsync(cancellationToken);
            Assert.Equal(from.PublicKey, packet.Source);
            var expected = Packet(i, SizeOf(i), seed);
            Assert.True(expected.AsSpan().SequenceEqual(packet.Span), $"packet {i} differs ({packet.Length} bytes, expected {expected.Length})");
        }
    }
}
