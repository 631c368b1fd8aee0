using System.Net;
using Microsoft.Extensions.Time.Testing;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Crypto;

namespace Trellis.WireGuard.Tests;

public class DeviceTests
{
    [Theory]
    [InlineData("10.0.0.1", "10.0.0.2")]
    [InlineData("fd00::1", "fd00::2")]
    public void Two_devices_handshake_and_exchange_packets_both_ways(string a, string b)
    {
        // A clock that stands still: on the real one, a response slower than the 5 s rekey timeout
        // (a busy machine) would be answered by a second initiation, and the counts below are exact.
        using var pair = new DevicePair(new FakeTimeProvider());
        var ping = Packets.Build(a, b, 100, 0x11);
        Assert.Equal(ping, DevicePair.Carry(pair.TunA, pair.TunB, ping));
        var pong = Packets.Build(b, a, 300, 0x22);
        Assert.Equal(pong, DevicePair.Carry(pair.TunB, pair.TunA, pong));

        Assert.NotNull(pair.PeerBOnA.LastHandshake);
        DevicePair.WaitFor(() => pair.PeerAOnB.LastHandshake is not null, "B to confirm the session");
        Assert.True(pair.PeerBOnA.TxBytes > 0 && pair.PeerBOnA.RxBytes > 0);
        Assert.Equal(1, pair.CountOnWire(MessageType.Initiation, pair.A));
        Assert.Equal(1, pair.CountOnWire(MessageType.Response, pair.B));
    }

    [Fact]
    public void Transport_messages_are_padded_to_sixteen_bytes()
    {
        // A clock that stands still: on the real one, a stall past the new-handshake timeout would put
        // a keepalive of the next session last on the wire.
        using var pair = new DevicePair(new FakeTimeProvider());
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2", 1)));
        var message = pair.LastOnWire(MessageType.Transport, pair.A)!;
        Assert.Equal(16 + 32 + 16, message.Length); // 21-byte packet padded to 32
    }

    [Fact]
    public void Many_packets_arrive_complete_and_in_order()
    {
        using var pair = new DevicePair();
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        for (var i = 0; i < 500; i++)
        {
            Assert.True(pair.TunA.Inject(Packets.Build("10.0.0.1", "10.0.0.2", 100 + (i % 900), (byte)i)));
            if (i % 100 == 99)
            {
                for (var j = i - 99; j <= i; j++)
                {
                    var got = DevicePair.Receive(pair.TunB, DevicePair.Patience);
                    Assert.NotNull(got);
                    Assert.Equal(Packets.Build("10.0.0.1", "10.0.0.2", 100 + (j % 900), (byte)j), got);
                }
            }
        }
    }

    [Fact]
    public void A_packet_whose_inner_source_the_peer_may_not_use_is_dropped()
    {
        using var pair = new DevicePair();
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));

        // B sends a packet claiming source 10.0.0.99, which A does not allow for B.
        Assert.Null(DevicePair.Carry(pair.TunB, pair.TunA, Packets.Build("10.0.0.99", "10.0.0.1"), TimeSpan.FromMilliseconds(500)));
        DevicePair.WaitFor(() => Interlocked.Read(ref pair.A.Counters.SourceNotAllowed) == 1, "the forged packet to be counted");
        Assert.NotNull(DevicePair.Carry(pair.TunB, pair.TunA, Packets.Build("10.0.0.2", "10.0.0.1")));
    }

    [Fact]
    public void A_wrong_public_key_gets_no_handshake()
    {
        using var pair = new DevicePair(up: false);
        pair.A.RemovePeer(pair.PeerBOnA.PublicKey);
        var wrong = pair.A.AddPeer(X25519.PublicKey(X25519.GeneratePrivateKey()));
        pair.A.AllowedIps.Insert(IPNetwork.Parse("10.0.0.2/32"), wrong);
        wrong.SetEndpoint(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.2:51821")));
        pair.A.Up();
        pair.B.Up();

        Assert.Null(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2"), TimeSpan.FromMilliseconds(500)));
        DevicePair.WaitFor(() => Interlocked.Read(ref pair.B.Counters.HandshakeMac1Failed) >= 1, "B to reject the initiation");
        Assert.Equal(0, pair.CountOnWire(MessageType.Response, pair.B));
        Assert.Null(wrong.LastHandshake);
    }

    [Fact]
    public void Preshared_keys_must_match()
    {
        var psk = X25519.GeneratePrivateKey();
        using (var pair = new DevicePair())
        {
            pair.PeerBOnA.SetPresharedKey(psk);
            pair.PeerAOnB.SetPresharedKey(psk);
            Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        }

        using (var pair = new DevicePair())
        {
            pair.PeerBOnA.SetPresharedKey(psk);
            Assert.Null(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2"), TimeSpan.FromMilliseconds(500)));
            DevicePair.WaitFor(() => Interlocked.Read(ref pair.A.Counters.HandshakeInvalid) >= 1, "A to reject B's response");
        }
    }

    [Fact]
    public void A_replayed_transport_packet_is_dropped()
    {
        using var pair = new DevicePair();
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        var captured = pair.LastOnWire(MessageType.Transport, pair.A)!;
        var attacker = pair.Network.CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse("198.51.100.9:0")));
        attacker.Open(0);
        var buffer = new PacketBuffer { Endpoint = pair.BindB.LocalEndpoint };
        captured.CopyTo(buffer.Data);
        buffer.Length = captured.Length;
        attacker.Send([buffer]);
        DevicePair.WaitFor(() => Interlocked.Read(ref pair.B.Counters.ReplayedPackets) == 1, "the replay to be counted");
        Assert.Null(DevicePair.Receive(pair.TunB, TimeSpan.FromMilliseconds(200)));

        // A replay from elsewhere must not move the peer's endpoint either.
        Assert.Equal(pair.BindA.LocalEndpoint, pair.PeerAOnB.Endpoint);
    }

    [Fact]
    public void The_endpoint_follows_the_peer_when_its_address_changes()
    {
        using var pair = new DevicePair();
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        pair.A.SetListenPort(40123);
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        Assert.Equal(40123, pair.PeerAOnB.Endpoint!.Value.Port);
        Assert.NotNull(DevicePair.Carry(pair.TunB, pair.TunA, Packets.Build("10.0.0.2", "10.0.0.1")));
    }

    [Fact]
    public void One_device_serves_many_peers()
    {
        const int count = 40;
        var network = new Trellis.Core.Transport.InMemory.InMemoryNetwork();
        var hubKey = X25519.GeneratePrivateKey();
        var hubTun = new Trellis.Core.Transport.InMemory.InMemoryTun();
        using var hub = new Device(hubTun, network.CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.100:0"))));
        hub.SetPrivateKey(hubKey);
        hub.SetListenPort(51820);
        hub.Up();
        var spokes = new List<(Device Device, Trellis.Core.Transport.InMemory.InMemoryTun Tun)>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var key = X25519.GeneratePrivateKey();
                var tun = new Trellis.Core.Transport.InMemory.InMemoryTun();
                var device = new Device(tun, network.CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse($"192.0.2.{i + 1}:0"))));
                device.SetPrivateKey(key);
                var toHub = device.AddPeer(X25519.PublicKey(hubKey));
                toHub.SetEndpoint(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.100:51820")));
                device.AllowedIps.Insert(IPNetwork.Parse("10.1.0.0/16"), toHub);
                var spoke = hub.AddPeer(X25519.PublicKey(key));
                hub.AllowedIps.Insert(IPNetwork.Parse($"10.1.1.{i + 1}/32"), spoke);
                device.Up();
                spokes.Add((device, tun));
            }

            for (var i = 0; i < count; i++)
            {
                var packet = Packets.Build($"10.1.1.{i + 1}", "10.1.0.1", 50, (byte)i);
                Assert.Equal(packet, DevicePair.Carry(spokes[i].Tun, hubTun, packet));
            }

            for (var i = 0; i < count; i++)
            {
                var packet = Packets.Build("10.1.0.1", $"10.1.1.{i + 1}", 60, (byte)i);
                Assert.Equal(packet, DevicePair.Carry(hubTun, spokes[i].Tun, packet));
            }

            Assert.Equal(count, hub.Peers.Count(p => p.LastHandshake is not null));
        }
        finally
        {
            foreach (var (device, _) in spokes)
            {
                device.Dispose();
            }
        }
    }

    [Fact]
    public void Adding_a_peer_with_the_own_key_or_twice_is_refused()
    {
        using var pair = new DevicePair(up: false);
        Assert.Throws<ArgumentException>(() => pair.A.AddPeer(X25519.PublicKey(pair.KeyA)));
        Assert.Throws<ArgumentException>(() => pair.A.AddPeer(X25519.PublicKey(pair.KeyB)));
    }

    [Fact]
    public void A_peer_with_the_zero_key_is_added_and_never_handshakes()
    {
        using var pair = new DevicePair(up: false);
        var zero = pair.A.AddPeer(Key.Zero);
        Assert.Same(zero, pair.A.LookupPeer(Key.Zero));
        Assert.False(pair.A.CreateInitiation(zero, new byte[MessageLayout.InitiationSize]));
    }
}
