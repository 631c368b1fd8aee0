using System.Net;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;

namespace Trellis.WireGuard.Tests;

/// <summary>Every message type, truncated, extended, corrupted or random, is dropped and counted; nothing escapes.</summary>
public class MalformedInputTests
{
    private static void SendRaw(DevicePair pair, InMemoryBind from, byte[] bytes)
    {
        var buffer = new PacketBuffer { Endpoint = pair.BindB.LocalEndpoint, Length = bytes.Length };
        bytes.CopyTo(buffer.Data);
        from.Send([buffer]);
    }

    private static long Dropped(Device d) =>
        d.Counters.MalformedPackets + d.Counters.UnknownReceiverIndex + d.Counters.DecryptionFailed +
        d.Counters.HandshakeMac1Failed + d.Counters.HandshakeInvalid + d.Counters.ReplayedPackets +
        d.Counters.HandshakeReplayed + d.Counters.SourceNotAllowed;

    [Fact]
    public void Truncated_extended_and_corrupted_messages_of_every_type_are_dropped_and_counted()
    {
        using var pair = new DevicePair();
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        var samples = new List<byte[]>
        {
            pair.LastOnWire(MessageType.Initiation, pair.A)!,
            pair.LastOnWire(MessageType.Response, pair.B)!,
            pair.LastOnWire(MessageType.Transport, pair.A)!,
        };
        var cookie = new byte[MessageLayout.CookieReplySize];
        cookie[0] = 3;
        samples.Add(cookie);

        var attacker = pair.Network.CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse("198.51.100.7:0")));
        attacker.Open(0);
        var sent = 0;
        var random = new Random(7);
        foreach (var sample in samples)
        {
            for (var length = 0; length < sample.Length; length++)
            {
                SendRaw(pair, attacker, sample[..length]); // truncated
                sent++;
            }

            SendRaw(pair, attacker, [.. sample, 0]); // one byte too long
            sent++;
            for (var i = 0; i < 64; i++)
            {
                var flipped = (byte[])sample.Clone();
                var at = random.Next(4, flipped.Length); // keep the type, corrupt the body
                flipped[at] ^= (byte)(1 << random.Next(8));
                SendRaw(pair, attacker, flipped);
                sent++;
            }
        }

        for (var i = 0; i < 200; i++)
        {
            var junk = new byte[random.Next(0, 1500)];
            random.NextBytes(junk);
            SendRaw(pair, attacker, junk);
            sent++;
        }

        pair.Settle();
        Assert.True(Dropped(pair.B) >= sent - 5, $"dropped {Dropped(pair.B)} of {sent}"); // a flip in mac2 of a valid message is no error
        Assert.Null(DevicePair.Receive(pair.TunB, TimeSpan.FromMilliseconds(100)));

        // The device still works, and the attacker did not steal the endpoint.
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        Assert.NotNull(DevicePair.Carry(pair.TunB, pair.TunA, Packets.Build("10.0.0.2", "10.0.0.1")));
        Assert.Equal(pair.BindA.LocalEndpoint, pair.PeerAOnB.Endpoint);
    }

    [Fact]
    public void Non_IP_and_inconsistent_inner_packets_are_dropped()
    {
        using var pair = new DevicePair();
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        var lying = Packets.Build("10.0.0.1", "10.0.0.2", 40);
        lying[2] = 0xff; // total length beyond the packet
        lying[3] = 0xff;
        Assert.Null(DevicePair.Carry(pair.TunA, pair.TunB, lying, TimeSpan.FromMilliseconds(300)));
        pair.TunA.Inject([0x00, 0x01, 0x02]);
        DevicePair.WaitFor(() => Interlocked.Read(ref pair.B.Counters.MalformedPackets) >= 1 && pair.A.Counters.NoPeerForDestination >= 1, "both drops");
    }
}
