using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Relay.Client;
using Trellis.Relay.Protocol;

namespace Trellis.Relay.Tests;

/// <summary>Frames that arrive in one read are routed together and their destinations' writers woken once at the end.</summary>
public sealed class BurstRoutingTests
{
    private static readonly TimeSpan SafetyNet = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_frame_of_a_burst_read_at_once_reaches_its_destination_in_order_the_last_too()
    {
        await using var relay = await TestRelay.StartAsync();
        await using var a = await TestRelay.ConnectedClientAsync(relay);
        await using var b = await TestRelay.ConnectedClientAsync(relay);
        await using var sender = await RawRelayConnection.HandshakeAsync(relay.RelayUrl);
        await Eventually.TrueAsync(() => relay.Server.Stats.Clients == 3, "all three clients to be reachable", SafetyNet);

        // 60 small frames in one write (well inside one read): to A, to B, and to nobody, interleaved.
        var nobody = X25519.PublicKey(X25519.GeneratePrivateKey());
        var burst = new List<byte>();
        for (var i = 0; i < 60; i++)
        {
            var destination = (i % 3) switch { 0 => a.PublicKey, 1 => b.PublicKey, _ => nobody };
            burst.AddRange(SendPacket(destination, [(byte)i, .. new byte[i % 7 * 10]]));
        }

        await sender.WriteAsync([.. burst]);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => 3 * i), await ReceiveAsync(a, sender.PublicKey, 20));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (3 * i) + 1), await ReceiveAsync(b, sender.PublicKey, 20));
    }

    private static byte[] SendPacket(Key destination, byte[] packet)
    {
        var frame = new byte[RelayProtocol.HeaderSize + Key.Size + packet.Length];
        FrameCodec.WritePacket(frame, FrameType.SendPacket, destination, packet);
        return frame;
    }

    /// <summary>The first byte of each of the next <paramref name="count"/> packets, which must all come from <paramref name="source"/>.</summary>
    private static async Task<List<int>> ReceiveAsync(RelayClient client, Key source, int count)
    {
        var tags = new List<int>();
        while (tags.Count < count)
        {
            using var packet = await client.Packets.ReadAsync().AsTask().WaitAsync(SafetyNet);
            Assert.Equal(source, packet.Source);
            Assert.Equal((packet.Span[0] % 7) * 10 + 1, packet.Length);
            tags.Add(packet.Span[0]);
        }

        return tags;
    }
}
