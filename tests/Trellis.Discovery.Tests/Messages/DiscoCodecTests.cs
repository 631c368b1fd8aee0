using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Crypto;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery.Tests.Messages;

public class DiscoCodecTests
{
    private readonly DiscoSealer _alice = new(X25519.GeneratePrivateKey());
    private readonly DiscoSealer _bob = new(X25519.GeneratePrivateKey());

    private byte[] Seal(DiscoSealer from, DiscoSealer to, DiscoMessage message)
    {
        var buffer = new byte[DiscoCodec.MaxPacketSize];
        var n = from.Seal(to.PublicKey, message, buffer);
        return buffer[..n];
    }

    [Fact]
    public void Ping_round_trips()
    {
        var tx = DiscoTxId.New();
        var node = X25519.PublicKey(X25519.GeneratePrivateKey());
        var packet = Seal(_alice, _bob, DiscoMessage.Ping(tx, node));

        Assert.True(DiscoCodec.IsDisco(packet));
        Assert.True(_bob.TryOpen(packet, out var sender, out var m));
        Assert.Equal(_alice.PublicKey, sender);
        Assert.Equal(DiscoMessageType.Ping, m.Type);
        Assert.Equal(tx, m.TxId);
        Assert.Equal(node, m.NodeKey);
    }

    [Theory]
    [InlineData("198.51.100.7:41641")]
    [InlineData("[2001:db8::1]:65535")]
    public void Pong_round_trips_the_observed_endpoint(string observed)
    {
        Assert.True(Endpoint.TryParse(observed, out var ep));
        var tx = DiscoTxId.New();
        var packet = Seal(_bob, _alice, DiscoMessage.Pong(tx, ep));

        Assert.True(_alice.TryOpen(packet, out var sender, out var m));
        Assert.Equal(_bob.PublicKey, sender);
        Assert.Equal(DiscoMessageType.Pong, m.Type);
        Assert.Equal(tx, m.TxId);
        Assert.Equal(ep, m.Observed);
        Assert.Equal(ep.IsIPv4, m.Observed.IsIPv4);
    }

    [Fact]
    public void CallMeMaybe_round_trips_its_endpoints()
    {
        Endpoint[] eps = [Parse("10.0.0.1:1"), Parse("[fe80::1]:2"), Parse("203.0.113.9:41641")];
        var packet = Seal(_alice, _bob, DiscoMessage.CallMeMaybe(eps));

        Assert.True(_bob.TryOpen(packet, out _, out var m));
        Assert.Equal(DiscoMessageType.CallMeMaybe, m.Type);
        Assert.Equal(eps, m.Endpoints);
    }

    [Fact]
    public void Peer_relay_request_and_grant_round_trip_the_node_and_handle()
    {
        var node = X25519.PublicKey(X25519.GeneratePrivateKey());
        Assert.True(_bob.TryOpen(Seal(_alice, _bob, DiscoMessage.PeerRelayRequest(node)), out _, out var request));
        Assert.Equal(DiscoMessageType.PeerRelayRequest, request.Type);
        Assert.Equal(node, request.NodeKey);

        Assert.True(_alice.TryOpen(Seal(_bob, _alice, DiscoMessage.PeerRelayGrant(node, 0xABCDEF)), out _, out var grant));
        Assert.Equal(DiscoMessageType.PeerRelayGrant, grant.Type);
        Assert.Equal(node, grant.NodeKey);
        Assert.Equal(0xABCDEF, grant.Handle);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(0x1000000)]
    public void A_grant_with_a_handle_outside_24_bits_or_zero_is_refused(int handle)
    {
        Span<byte> inner = stackalloc byte[64];
        var n = DiscoCodec.WriteInner(DiscoMessage.PeerRelayGrant(X25519.PublicKey(X25519.GeneratePrivateKey()), handle), inner);
        Assert.False(DiscoCodec.TryReadInner(inner[..n], out _));
    }

    [Theory]
    [InlineData(PortGuessStep.Offer)]
    [InlineData(PortGuessStep.Go)]
    public void PortGuess_round_trips_its_step(PortGuessStep step)
    {
        var packet = Seal(_alice, _bob, DiscoMessage.PortGuess(step));

        Assert.True(_bob.TryOpen(packet, out _, out var m));
        Assert.Equal(DiscoMessageType.PortGuess, m.Type);
        Assert.Equal(step, m.GuessStep);
    }

    [Theory]
    [InlineData(new byte[] { (byte)DiscoMessageType.PortGuess })]
    [InlineData(new byte[] { (byte)DiscoMessageType.PortGuess, 0 })]
    [InlineData(new byte[] { (byte)DiscoMessageType.PortGuess, 3 })]
    [InlineData(new byte[] { (byte)DiscoMessageType.PortGuess, 1, 1 })]
    public void A_port_guess_without_exactly_one_known_step_is_refused(byte[] inner) => Assert.False(DiscoCodec.TryReadInner(inner, out _));

    [Fact]
    public void Every_flipped_bit_is_refused()
    {
        var packet = Seal(_alice, _bob, DiscoMessage.Ping(DiscoTxId.New(), default));
        for (var i = 0; i < packet.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var t = (byte[])packet.Clone();
                t[i] ^= (byte)(1 << bit);
                Assert.False(_bob.TryOpen(t, out _, out _), $"byte {i} bit {bit}");
            }
        }
    }

    [Fact]
    public void A_message_sealed_for_someone_else_is_refused()
    {
        var carol = new DiscoSealer(X25519.GeneratePrivateKey());
        var packet = Seal(_alice, carol, DiscoMessage.Ping(DiscoTxId.New(), default));

        Assert.False(_bob.TryOpen(packet, out _, out _));
        Assert.True(carol.TryOpen(packet, out _, out _));
    }

    [Fact]
    public void Every_truncation_is_refused()
    {
        var packet = Seal(_alice, _bob, DiscoMessage.Pong(DiscoTxId.New(), Parse("10.1.2.3:4")));
        for (var n = 0; n < packet.Length; n++)
        {
            Assert.False(_bob.TryOpen(packet.AsSpan(0, n), out _, out _), $"length {n}");
        }
    }

    [Fact]
    public void Random_mutations_never_throw()
    {
        var rng = new Random(1234);
        var seeds = new[]
        {
            Seal(_alice, _bob, DiscoMessage.Ping(DiscoTxId.New(), default)),
            Seal(_alice, _bob, DiscoMessage.Pong(DiscoTxId.New(), Parse("10.1.2.3:4"))),
            Seal(_alice, _bob, DiscoMessage.CallMeMaybe([Parse("10.1.2.3:4")])),
        };
        for (var i = 0; i < 20_000; i++)
        {
            var p = (byte[])seeds[i % seeds.Length].Clone();
            var len = rng.Next(0, p.Length + 40);
            var q = new byte[len];
            p.AsSpan(0, Math.Min(len, p.Length)).CopyTo(q);
            for (var k = rng.Next(1, 4); k > 0 && len > 0; k--)
            {
                q[rng.Next(len)] = (byte)rng.Next(256);
            }

            if (i % 7 == 0 && len >= DiscoCodec.MagicSize)
            {
                DiscoCodec.Magic.CopyTo(q);
            }

            _ = _bob.TryOpen(q, out _, out _);
        }
    }

    [Fact]
    public void Unknown_inner_types_and_short_bodies_are_refused()
    {
        Assert.False(DiscoCodec.TryReadInner([], out _));
        Assert.False(DiscoCodec.TryReadInner([9, 0, 0], out _));
        Assert.False(DiscoCodec.TryReadInner([1, .. new byte[43]], out _));
        Assert.False(DiscoCodec.TryReadInner([3, .. new byte[17]], out _));
        Assert.True(DiscoCodec.TryReadInner([3], out var empty));
        Assert.Empty(empty.Endpoints);
    }

    [Fact]
    public void A_low_order_sender_key_is_refused()
    {
        var packet = Seal(_alice, _bob, DiscoMessage.Ping(DiscoTxId.New(), default));
        new Key(new byte[32]).CopyTo(packet.AsSpan(DiscoCodec.MagicSize));
        Assert.False(_bob.TryOpen(packet, out _, out _));
    }

    private static Endpoint Parse(string s) => Endpoint.TryParse(s, out var e) ? e : throw new ArgumentException(s);
}
