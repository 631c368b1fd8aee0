using Trellis.Crypto.Noise;

namespace Trellis.Crypto.Tests.Noise;

public class NoiseTransportTests
{
    /// <summary>A fresh handshake between random keys; returns (initiator's, responder's) transports.</summary>
    private static (NoiseTransport Initiator, NoiseTransport Responder) Pair()
    {
        var responderKey = X25519.GeneratePrivateKey();
        using var initiator = new NoiseIKInitiator(X25519.GeneratePrivateKey(), X25519.PublicKey(responderKey), []);
        using var responder = new NoiseIKResponder(responderKey, []);
        responder.ReadFirstMessage(initiator.WriteFirstMessage([]), out _);
        var message2 = responder.WriteSecondMessage([], out var responderTransport);
        return (initiator.ReadSecondMessage(message2, out _), responderTransport);
    }

    /// <summary>Transports built straight from keys, to start the counters anywhere.</summary>
    private static (NoiseTransport A, NoiseTransport B) PairAt(ulong aToB, ulong bToA)
    {
        var k1 = new byte[32];
        var k2 = new byte[32];
        k1[0] = 1;
        k2[0] = 2;
        static CipherState State(byte[] key, ulong nonce)
        {
            var state = new CipherState();
            state.InitializeKey(key);
            state.Nonce = nonce;
            return state;
        }

        return (new NoiseTransport(State(k1, aToB), State(k2, bToA), []), new NoiseTransport(State(k2, bToA), State(k1, aToB), []));
    }

    [Fact]
    public void Messages_flow_both_ways_and_the_counters_count()
    {
        var (a, b) = Pair();
        using (a)
        using (b)
        {
            for (var i = 0; i < 20; i++)
            {
                var message = new byte[i * 37];
                Random.Shared.NextBytes(message);
                var ciphertext = a.Encrypt(message);
                Assert.Equal(message.Length + NoiseConstants.TagLen, ciphertext.Length);
                Assert.True(b.TryDecrypt(ciphertext, out var plaintext));
                Assert.Equal(message, plaintext);
            }

            Assert.True(a.TryDecrypt(b.Encrypt("pong"u8), out var pong));
            Assert.Equal("pong"u8.ToArray(), pong);
            Assert.Equal(20UL, a.SendCounter);
            Assert.Equal(20UL, b.ReceiveCounter);
            Assert.Equal(1UL, b.SendCounter);
            Assert.Equal(1UL, a.ReceiveCounter);
        }
    }

    [Fact]
    public void Span_overloads_write_into_caller_buffers()
    {
        var (a, b) = Pair();
        using (a)
        using (b)
        {
            Span<byte> ciphertext = stackalloc byte[64];
            var written = a.Encrypt("span payload"u8, ciphertext);
            Assert.Equal(12 + NoiseConstants.TagLen, written);
            Span<byte> plaintext = stackalloc byte[64];
            Assert.True(b.TryDecrypt(ciphertext[..written], plaintext, out var length));
            Assert.True(plaintext[..length].SequenceEqual("span payload"u8));

            var tooSmall = new byte[12 + NoiseConstants.TagLen - 1];
            Assert.Throws<ArgumentException>(() => a.Encrypt("span payload"u8, tooSmall));
            var next = a.Encrypt("span payload"u8);
            Assert.Throws<ArgumentException>(() => b.TryDecrypt(next, new byte[11], out _));
        }
    }

    [Fact]
    public void Replayed_and_reordered_messages_fail_without_losing_the_stream_position()
    {
        var (a, b) = Pair();
        using (a)
        using (b)
        {
            var first = a.Encrypt("first"u8);
            var second = a.Encrypt("second"u8);
            Assert.False(b.TryDecrypt(second, out var plaintext));
            Assert.Empty(plaintext);
            Assert.Equal(0UL, b.ReceiveCounter);
            Assert.True(b.TryDecrypt(first, out _));
            Assert.False(b.TryDecrypt(first, out _));
            Assert.True(b.TryDecrypt(second, out plaintext));
            Assert.Equal("second"u8.ToArray(), plaintext);
            Assert.False(b.TryDecrypt(second, out _));
            Assert.Equal(2UL, b.ReceiveCounter);

            // A message is bound to its direction: the sender cannot be fed its own output.
            Assert.False(a.TryDecrypt(a.Encrypt("mirror"u8), out _));
        }
    }

    [Fact]
    public void Every_bit_flip_and_every_truncation_fails()
    {
        var (a, b) = Pair();
        using (a)
        using (b)
        {
            var original = a.Encrypt("a map response"u8);
            for (var bit = 0; bit < original.Length * 8; bit++)
            {
                var tampered = (byte[])original.Clone();
                tampered[bit / 8] ^= (byte)(1 << (bit % 8));
                Assert.False(b.TryDecrypt(tampered, out _));
            }

            for (var length = 0; length < original.Length; length++)
            {
                Assert.False(b.TryDecrypt(original[..length], out _));
                Assert.False(b.TryDecrypt(original[..length], new byte[original.Length], out var written));
                Assert.Equal(0, written);
            }

            Assert.False(b.TryDecrypt([.. original, 0], out _));
            Assert.True(b.TryDecrypt(original, out var plaintext));
            Assert.Equal("a map response"u8.ToArray(), plaintext);
        }
    }

    [Fact]
    public void A_failed_decryption_clears_the_caller_buffer()
    {
        var (a, b) = Pair();
        using (a)
        using (b)
        {
            var tampered = a.Encrypt("secret"u8);
            tampered[^1] ^= 1;
            var buffer = new byte[6];
            Array.Fill(buffer, (byte)0xaa);
            Assert.False(b.TryDecrypt(tampered, buffer, out _));
            Assert.All(buffer, x => Assert.Equal(0, x));
        }
    }

    [Fact]
    public void The_65535_byte_message_limit_is_enforced()
    {
        var (a, b) = Pair();
        using (a)
        using (b)
        {
            var largest = a.Encrypt(new byte[NoiseConstants.MaxTransportPlaintextLength]);
            Assert.Equal(NoiseConstants.MaxMessageLength, largest.Length);
            Assert.True(b.TryDecrypt(largest, out var plaintext));
            Assert.Equal(NoiseConstants.MaxTransportPlaintextLength, plaintext.Length);

            var error = Assert.Throws<ArgumentException>(() => a.Encrypt(new byte[NoiseConstants.MaxTransportPlaintextLength + 1]));
            Assert.Contains("65519", error.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => a.Encrypt(new byte[NoiseConstants.MaxTransportPlaintextLength + 1], new byte[70000]));
            Assert.Equal(1UL, a.SendCounter);
            Assert.False(b.TryDecrypt(new byte[NoiseConstants.MaxMessageLength + 1], out _));
        }
    }

    [Fact]
    public void The_reserved_last_nonce_is_never_used()
    {
        var (a, b) = PairAt(ulong.MaxValue - 1, 0);
        using (a)
        using (b)
        {
            var last = a.Encrypt("last"u8);
            Assert.True(b.TryDecrypt(last, out _));
            Assert.Equal(ulong.MaxValue, a.SendCounter);
            Assert.Throws<InvalidOperationException>(() => a.Encrypt("one too many"u8));
            Assert.Equal(ulong.MaxValue, b.ReceiveCounter);
            Assert.False(b.TryDecrypt(last, out _));
        }
    }

    [Fact]
    public void A_disposed_transport_refuses_to_work()
    {
        var (a, b) = Pair();
        var ciphertext = a.Encrypt("x"u8);
        a.Dispose();
        b.Dispose();
        Assert.Throws<ObjectDisposedException>(() => a.Encrypt("x"u8));
        Assert.Throws<ObjectDisposedException>(() => b.TryDecrypt(ciphertext, out _));
    }
}
