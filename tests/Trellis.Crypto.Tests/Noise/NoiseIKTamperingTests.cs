using Trellis.Core.Keys;
using Trellis.Crypto.Noise;
using static Trellis.Crypto.Tests.Noise.CacophonyVectorTests;

namespace Trellis.Crypto.Tests.Noise;

/// <summary>
/// Every way a handshake message can be wrong ends in <see cref="NoiseHandshakeException"/>. The vector's
/// fixed keys make message 1 and 2 deterministic, so each corruption is tried on a fresh handshake.
/// </summary>
public class NoiseIKTamperingTests
{
    /// <summary>X25519 points of small order (libsodium's blocklist): any DH with them is all zeros.</summary>
    public static TheoryData<string> LowOrderPoints => new()
    {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };

    private static byte[] Message1 => Hex.Decode(Messages[0].Ciphertext);

    private static byte[] Message2 => Hex.Decode(Messages[1].Ciphertext);

    private static void ReadFirst(byte[] message)
    {
        using var responder = VectorResponder();
        responder.ReadFirstMessage(message, out _);
    }

    private static void ReadSecond(byte[] message)
    {
        using var initiator = VectorInitiator();
        initiator.WriteFirstMessage(Hex.Decode(Messages[0].Payload));
        initiator.ReadSecondMessage(message, out _).Dispose();
    }

    [Fact]
    public void Every_bit_flip_of_message_1_is_rejected()
    {
        var original = Message1;
        for (var bit = 0; bit < original.Length * 8; bit++)
        {
            var tampered = (byte[])original.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<NoiseHandshakeException>(() => ReadFirst(tampered));
        }
    }

    [Fact]
    public void Every_bit_flip_of_message_2_is_rejected()
    {
        var original = Message2;
        for (var bit = 0; bit < original.Length * 8; bit++)
        {
            var tampered = (byte[])original.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<NoiseHandshakeException>(() => ReadSecond(tampered));
        }
    }

    [Fact]
    public void Truncated_extended_and_oversize_messages_are_rejected()
    {
        var message1 = Message1;
        for (var length = 0; length < message1.Length; length++)
        {
            Assert.Throws<NoiseHandshakeException>(() => ReadFirst(message1[..length]));
        }

        var message2 = Message2;
        for (var length = 0; length < message2.Length; length++)
        {
            Assert.Throws<NoiseHandshakeException>(() => ReadSecond(message2[..length]));
        }

        Assert.Throws<NoiseHandshakeException>(() => ReadFirst([.. message1, 0]));
        Assert.Throws<NoiseHandshakeException>(() => ReadSecond([.. message2, 0]));
        Assert.Throws<NoiseHandshakeException>(() => ReadFirst(new byte[NoiseConstants.MaxMessageLength + 1]));
        Assert.Throws<NoiseHandshakeException>(() => ReadSecond(new byte[NoiseConstants.MaxMessageLength + 1]));
    }

    [Fact]
    public void A_message_for_another_responder_is_rejected()
    {
        using var other = new NoiseIKResponder(X25519.GeneratePrivateKey(), Hex.Decode(Prologue));
        var error = Assert.Throws<NoiseHandshakeException>(() => other.ReadFirstMessage(Message1, out _));
        Assert.Contains("static key did not authenticate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_different_prologue_is_rejected()
    {
        using var responder = new NoiseIKResponder(Key.FromHex(RespStatic), "John Galt?"u8);
        Assert.Throws<NoiseHandshakeException>(() => responder.ReadFirstMessage(Message1, out _));
    }

    [Fact]
    public void A_reply_from_another_handshake_is_rejected()
    {
        using var initiator = VectorInitiator();
        initiator.WriteFirstMessage([]);

        // An impostor cannot read message 1 without the responder's key, so its best reply is one
        // from a handshake of its own.
        using var impostor = new NoiseIKResponder(X25519.GeneratePrivateKey(), Hex.Decode(Prologue));
        using var other = new NoiseIKInitiator(Key.FromHex(InitStatic), impostor.LocalStaticPublic, Hex.Decode(Prologue));
        impostor.ReadFirstMessage(other.WriteFirstMessage([]), out _);
        var forged = impostor.WriteSecondMessage([], out var transport);
        transport.Dispose();
        Assert.Throws<NoiseHandshakeException>(() => initiator.ReadSecondMessage(forged, out _));
    }

    [Theory]
    [MemberData(nameof(LowOrderPoints))]
    public void A_low_order_ephemeral_in_message_1_is_rejected(string point)
    {
        var message = Message1;
        Hex.Decode(point).CopyTo(message, 0);
        var error = Assert.Throws<NoiseHandshakeException>(() => ReadFirst(message));
        Assert.Contains("low-order", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(LowOrderPoints))]
    public void A_low_order_ephemeral_in_message_2_is_rejected(string point)
    {
        var message = Message2;
        Hex.Decode(point).CopyTo(message, 0);
        var error = Assert.Throws<NoiseHandshakeException>(() => ReadSecond(message));
        Assert.Contains("low-order", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(LowOrderPoints))]
    public void A_low_order_initiator_static_key_is_rejected(string point)
    {
        // A forger builds message 1 by hand around a low-order static key (it has no private key for it).
        var responderPublic = Key.FromHex(InitRemoteStatic);
        var ephemeral = Key.FromHex(InitEphemeral);
        using var symmetric = new SymmetricState(NoiseConstants.ProtocolName);
        symmetric.MixHash(Hex.Decode(Prologue));
        symmetric.MixHash(responderPublic.ToArray());
        var message = new byte[NoiseConstants.FirstMessageOverhead];
        X25519.PublicKey(ephemeral).CopyTo(message);
        symmetric.MixHash(message.AsSpan(0, 32));
        var es = new byte[32];
        Assert.True(X25519.SharedSecret(ephemeral, responderPublic, es));
        symmetric.MixKey(es);
        symmetric.EncryptAndHash(Hex.Decode(point), message.AsSpan(32));

        var error = Assert.Throws<NoiseHandshakeException>(() => ReadFirst(message));
        Assert.Contains("low-order", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(LowOrderPoints))]
    public void A_low_order_responder_key_is_refused_by_the_initiator(string point)
    {
        using var initiator = new NoiseIKInitiator(Key.FromHex(InitStatic), Key.FromHex(point), Hex.Decode(Prologue));
        Assert.Throws<NoiseHandshakeException>(() => initiator.WriteFirstMessage([]));
        Assert.Throws<InvalidOperationException>(() => initiator.WriteFirstMessage([]));
    }

    [Fact]
    public void A_failed_read_spends_the_handshake()
    {
        using var responder = VectorResponder();
        Assert.Throws<NoiseHandshakeException>(() => responder.ReadFirstMessage(new byte[10], out _));
        Assert.Throws<InvalidOperationException>(() => responder.ReadFirstMessage(Message1, out _));
    }
}
