using System.Text;
using Trellis.Crypto.Noise;

namespace Trellis.Crypto.Tests.Noise;

public class NoiseIKRoundTripTests
{
    private static readonly byte[] Prologue = Encoding.ASCII.GetBytes("trellis control v1");

    [Fact]
    public void Initiator_and_responder_agree_and_the_responder_learns_the_initiator_key()
    {
        var initiatorKey = X25519.GeneratePrivateKey();
        var responderKey = X25519.GeneratePrivateKey();
        using var initiator = new NoiseIKInitiator(initiatorKey, X25519.PublicKey(responderKey), Prologue);
        using var responder = new NoiseIKResponder(responderKey, Prologue);

        var message1 = initiator.WriteFirstMessage("hello, register me"u8);
        Assert.Equal(NoiseConstants.FirstMessageOverhead + 18, message1.Length);
        Assert.Equal("hello, register me"u8.ToArray(), responder.ReadFirstMessage(message1, out var learned));
        Assert.Equal(X25519.PublicKey(initiatorKey), learned);
        Assert.Equal(X25519.PublicKey(initiatorKey), initiator.LocalStaticPublic);

        var message2 = responder.WriteSecondMessage("welcome"u8, out var responderTransport);
        Assert.Equal(NoiseConstants.SecondMessageOverhead + 7, message2.Length);
        using var initiatorTransport = initiator.ReadSecondMessage(message2, out var payload2);
        using var _ = responderTransport;
        Assert.Equal("welcome"u8.ToArray(), payload2);
        Assert.True(initiatorTransport.HandshakeHash.SequenceEqual(responderTransport.HandshakeHash));

        for (var i = 0; i < 5; i++)
        {
            var up = Encoding.UTF8.GetBytes($"map request {i}");
            Assert.True(responderTransport.TryDecrypt(initiatorTransport.Encrypt(up), out var gotUp));
            Assert.Equal(up, gotUp);
            var down = Encoding.UTF8.GetBytes($"map response {i}");
            Assert.True(initiatorTransport.TryDecrypt(responderTransport.Encrypt(down), out var gotDown));
            Assert.Equal(down, gotDown);
        }
    }

    [Fact]
    public void Empty_payloads_and_the_largest_payloads_fit()
    {
        var responderKey = X25519.GeneratePrivateKey();
        foreach (var (first, second) in new[] { (0, 0), (NoiseConstants.MaxFirstPayloadLength, NoiseConstants.MaxSecondPayloadLength) })
        {
            using var initiator = new NoiseIKInitiator(X25519.GeneratePrivateKey(), X25519.PublicKey(responderKey), Prologue);
            using var responder = new NoiseIKResponder(responderKey, Prologue);
            var message1 = initiator.WriteFirstMessage(new byte[first]);
            Assert.Equal(first, responder.ReadFirstMessage(message1, out _).Length);
            var message2 = responder.WriteSecondMessage(new byte[second], out var transport);
            transport.Dispose();
            initiator.ReadSecondMessage(message2, out var payload).Dispose();
            Assert.Equal(second, payload.Length);
            if (first > 0)
            {
                Assert.Equal(NoiseConstants.MaxMessageLength, message1.Length);
                Assert.Equal(NoiseConstants.MaxMessageLength, message2.Length);
            }
        }
    }

    [Fact]
    public void Oversize_payloads_are_refused_before_anything_is_sent()
    {
        var responderKey = X25519.GeneratePrivateKey();
        using var initiator = new NoiseIKInitiator(X25519.GeneratePrivateKey(), X25519.PublicKey(responderKey), Prologue);
        Assert.Throws<ArgumentException>(() => initiator.WriteFirstMessage(new byte[NoiseConstants.MaxFirstPayloadLength + 1]));

        using var responder = new NoiseIKResponder(responderKey, Prologue);
        responder.ReadFirstMessage(initiator.WriteFirstMessage([]), out _);
        Assert.Throws<ArgumentException>(() => responder.WriteSecondMessage(new byte[NoiseConstants.MaxSecondPayloadLength + 1], out _));
    }

    [Fact]
    public void Each_handshake_uses_a_fresh_ephemeral_key()
    {
        var initiatorKey = X25519.GeneratePrivateKey();
        var responderPublic = X25519.PublicKey(X25519.GeneratePrivateKey());
        using var a = new NoiseIKInitiator(initiatorKey, responderPublic, Prologue);
        using var b = new NoiseIKInitiator(initiatorKey, responderPublic, Prologue);
        Assert.NotEqual(a.WriteFirstMessage([])[..32], b.WriteFirstMessage([])[..32]);
    }

    [Fact]
    public void Steps_out_of_order_or_repeated_are_refused()
    {
        var responderKey = X25519.GeneratePrivateKey();
        using var initiator = new NoiseIKInitiator(X25519.GeneratePrivateKey(), X25519.PublicKey(responderKey), Prologue);
        using var responder = new NoiseIKResponder(responderKey, Prologue);

        Assert.Throws<InvalidOperationException>(() => initiator.ReadSecondMessage(new byte[48], out _));
        Assert.Throws<InvalidOperationException>(() => responder.WriteSecondMessage([], out _));
        var message1 = initiator.WriteFirstMessage([]);
        Assert.Throws<InvalidOperationException>(() => initiator.WriteFirstMessage([]));
        responder.ReadFirstMessage(message1, out _);
        Assert.Throws<InvalidOperationException>(() => responder.ReadFirstMessage(message1, out _));
        var message2 = responder.WriteSecondMessage([], out var transport);
        transport.Dispose();
        initiator.ReadSecondMessage(message2, out _).Dispose();
        Assert.Throws<InvalidOperationException>(() => initiator.ReadSecondMessage(message2, out _));
        Assert.Throws<InvalidOperationException>(() => responder.WriteSecondMessage([], out _));
    }
}
