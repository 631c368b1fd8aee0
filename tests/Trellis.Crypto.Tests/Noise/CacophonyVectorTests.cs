using Trellis.Core.Keys;
using Trellis.Crypto.Noise;

namespace Trellis.Crypto.Tests.Noise;

/// <summary>
/// Known answers for Noise_IK_25519_ChaChaPoly_BLAKE2s from the cacophony test vectors
/// (github.com/haskell-cryptography/cacophony, vectors/cacophony.txt at commit 36c1e5c3a799342b226547ce9fdb3579ab60ccd3,
/// the entry named "Noise_IK_25519_ChaChaPoly_BLAKE2s"). Messages 0 and 1 are the handshake; after it
/// the vector alternates directions starting with the initiator, each side using its own nonce counter.
/// </summary>
public class CacophonyVectorTests
{
    internal const string Prologue = "4a6f686e2047616c74"; // "John Galt"
    internal const string InitStatic = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
    internal const string InitEphemeral = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
    internal const string InitRemoteStatic = "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62";
    internal const string RespStatic = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
    internal const string RespEphemeral = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";

    internal static readonly (string Payload, string Ciphertext)[] Messages =
    [
        ("4c756477696720766f6e204d69736573",
         "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79440b03ddc7aac5123d06a1b23b71670e32" +
         "e76c28239a7ca4ac8f784de7e44c1adbfc6e83fef7352a58d9d56157400c0a737b1d171ce368229c7b752ac25b8faf4e" +
         "ca690f6d896f543be02c996ab2b86b76"),
        ("4d757272617920526f746862617264",
         "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843d9b5a8927f0ac9655ef76833bc7e5561" +
         "f42e691ac8404efd6fbd6308b6a27c"),
        ("462e20412e20486179656b", "2c256ed08fcd08c2980f954ee4beaccb61c9581340f5dd2fd1cf3b"),
        ("4361726c204d656e676572", "d6033f70eee20945c7c9dba304e397ee3b284ff5e00fd9efb095d3"),
        ("4a65616e2d426170746973746520536179", "a9c068ca5d8babf72560652d8e851adbfac35c8a66e810d560863173e96adf4cfe"),
        ("457567656e2042f6686d20766f6e2042617765726b", "2a09d8f459e5927e40fdd2eddc99bdafb04e13a26f145cb5cfe9e6ba34c94331ebc17d5156"),
    ];

    internal static NoiseIKInitiator VectorInitiator() =>
        new(Key.FromHex(InitStatic), Key.FromHex(InitRemoteStatic), Hex.Decode(Prologue), Key.FromHex(InitEphemeral));

    internal static NoiseIKResponder VectorResponder() =>
        new(Key.FromHex(RespStatic), Hex.Decode(Prologue), Key.FromHex(RespEphemeral));

    [Fact]
    public void The_vector_remote_static_is_the_responder_public_key()
    {
        Assert.Equal(InitRemoteStatic, X25519.PublicKey(Key.FromHex(RespStatic)).ToHex());
    }

    [Fact]
    public void Handshake_and_transport_reproduce_the_vector_byte_for_byte()
    {
        using var initiator = VectorInitiator();
        using var responder = VectorResponder();

        var message1 = initiator.WriteFirstMessage(Hex.Decode(Messages[0].Payload));
        Assert.Equal(Messages[0].Ciphertext, Hex.Encode(message1));
        var payload1 = responder.ReadFirstMessage(message1, out var initiatorStatic);
        Assert.Equal(Messages[0].Payload, Hex.Encode(payload1));
        Assert.Equal(X25519.PublicKey(Key.FromHex(InitStatic)), initiatorStatic);

        var message2 = responder.WriteSecondMessage(Hex.Decode(Messages[1].Payload), out var responderTransport);
        Assert.Equal(Messages[1].Ciphertext, Hex.Encode(message2));
        using var initiatorTransport = initiator.ReadSecondMessage(message2, out var payload2);
        using var _ = responderTransport;
        Assert.Equal(Messages[1].Payload, Hex.Encode(payload2));
        Assert.True(initiatorTransport.HandshakeHash.SequenceEqual(responderTransport.HandshakeHash));

        for (var i = 2; i < Messages.Length; i++)
        {
            var (sender, receiver) = i % 2 == 0 ? (initiatorTransport, responderTransport) : (responderTransport, initiatorTransport);
            var ciphertext = sender.Encrypt(Hex.Decode(Messages[i].Payload));
            Assert.Equal(Messages[i].Ciphertext, Hex.Encode(ciphertext));
            Assert.True(receiver.TryDecrypt(ciphertext, out var plaintext));
            Assert.Equal(Messages[i].Payload, Hex.Encode(plaintext));
        }

        Assert.Equal(2UL, initiatorTransport.SendCounter);
        Assert.Equal(2UL, initiatorTransport.ReceiveCounter);
        Assert.Equal(2UL, responderTransport.SendCounter);
        Assert.Equal(2UL, responderTransport.ReceiveCounter);
    }

    [Fact]
    public void The_responder_reads_the_vector_message_without_the_initiator()
    {
        using var responder = VectorResponder();
        var payload = responder.ReadFirstMessage(Hex.Decode(Messages[0].Ciphertext), out _);
        Assert.Equal(Messages[0].Payload, Hex.Encode(payload));
    }

    [Fact]
    public void The_initiator_reads_the_vector_reply_without_the_responder()
    {
        using var initiator = VectorInitiator();
        initiator.WriteFirstMessage(Hex.Decode(Messages[0].Payload));
        using var transport = initiator.ReadSecondMessage(Hex.Decode(Messages[1].Ciphertext), out var payload);
        Assert.Equal(Messages[1].Payload, Hex.Encode(payload));
        Assert.True(transport.TryDecrypt(Hex.Decode(Messages[3].Ciphertext), out var plaintext));
        Assert.Equal(Messages[3].Payload, Hex.Encode(plaintext));
    }
}
