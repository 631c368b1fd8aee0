using System.Text;

namespace Trellis.Crypto.Tests;

/// <summary>
/// Known answer for <see cref="XAead"/>: draft-irtf-cfrg-xchacha-03 appendix A.3.1
/// (AEAD_XCHACHA20_POLY1305). The hex is as the draft prints it and as NSec's own
/// tests (NSec.Tests/Rfc/XChaCha20Poly1305Tests.cs) and others carry it.
/// </summary>
public class XAeadTests
{
    private const string Key = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
    private const string Nonce = "404142434445464748494a4b4c4d4e4f5051525354555657";
    private const string Ad = "50515253c0c1c2c3c4c5c6c7";

    private const string Plaintext =
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";

    private const string PlaintextHex =
        "4c616469657320616e642047656e746c656d656e206f662074686520636c6173" +
        "73206f66202739393a204966204920636f756c64206f6666657220796f75206f" +
        "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73" +
        "637265656e20776f756c642062652069742e";

    private const string Ciphertext =
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb" +
        "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452" +
        "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9" +
        "21f9664c97637da9768812f615c68b13b52e";

    private const string Tag = "c0875924c1c7987947deafd8780acf49";

    [Fact]
    public void The_plaintext_hex_is_the_sunscreen_sentence()
    {
        Assert.Equal(PlaintextHex, Hex.Encode(Encoding.ASCII.GetBytes(Plaintext)));
        Assert.Equal(114, Plaintext.Length);
    }

    [Fact]
    public void Seal_matches_draft_irtf_cfrg_xchacha_03_A_3_1()
    {
        var plaintext = Encoding.ASCII.GetBytes(Plaintext);
        var output = new byte[plaintext.Length + XAead.TagSize];
        XAead.Seal(Hex.Decode(Key), Hex.Decode(Nonce), plaintext, Hex.Decode(Ad), output);
        Assert.Equal(Ciphertext + Tag, Hex.Encode(output));
    }

    [Fact]
    public void Open_matches_draft_irtf_cfrg_xchacha_03_A_3_1()
    {
        var sealedData = Hex.Decode(Ciphertext + Tag);
        var plaintext = new byte[sealedData.Length - XAead.TagSize];
        Assert.True(XAead.Open(Hex.Decode(Key), Hex.Decode(Nonce), sealedData, Hex.Decode(Ad), plaintext));
        Assert.Equal(Plaintext, Encoding.ASCII.GetString(plaintext));
    }

    [Fact]
    public void Open_fails_without_throwing_on_every_flipped_bit()
    {
        var key = Hex.Decode(Key);
        var nonce = Hex.Decode(Nonce);
        var ad = Hex.Decode(Ad);
        var sealedData = Hex.Decode(Ciphertext + Tag);
        var plaintext = new byte[sealedData.Length - XAead.TagSize];
        for (var i = 0; i < sealedData.Length; i++)
        {
            sealedData[i] ^= 0x04;
            Assert.False(XAead.Open(key, nonce, sealedData, ad, plaintext));
            sealedData[i] ^= 0x04;
        }

        Assert.True(XAead.Open(key, nonce, sealedData, ad, plaintext));
    }

    [Fact]
    public void Open_fails_without_throwing_on_truncated_input()
    {
        var key = Hex.Decode(Key);
        var nonce = Hex.Decode(Nonce);
        var ad = Hex.Decode(Ad);
        var sealedData = Hex.Decode(Ciphertext + Tag);
        var plaintext = new byte[sealedData.Length];
        foreach (var length in new[] { sealedData.Length - 1, XAead.TagSize, XAead.TagSize - 1, 1, 0 })
        {
            Assert.False(XAead.Open(key, nonce, sealedData.AsSpan(0, length), ad, plaintext));
        }

        Assert.False(XAead.Open(key, nonce, sealedData.AsSpan(1), ad, plaintext));
    }

    [Fact]
    public void Open_fails_without_throwing_with_wrong_associated_data_nonce_or_key()
    {
        var key = Hex.Decode(Key);
        var nonce = Hex.Decode(Nonce);
        var ad = Hex.Decode(Ad);
        var sealedData = Hex.Decode(Ciphertext + Tag);
        var plaintext = new byte[sealedData.Length - XAead.TagSize];

        var wrongAd = ad.ToArray();
        wrongAd[0] ^= 1;
        Assert.False(XAead.Open(key, nonce, sealedData, wrongAd, plaintext));
        Assert.False(XAead.Open(key, nonce, sealedData, default, plaintext));

        // The last byte of the nonce is in the ChaCha20 part, the first in the HChaCha20 part.
        var wrongNonce = nonce.ToArray();
        wrongNonce[^1] ^= 1;
        Assert.False(XAead.Open(key, wrongNonce, sealedData, ad, plaintext));
        wrongNonce = nonce.ToArray();
        wrongNonce[0] ^= 1;
        Assert.False(XAead.Open(key, wrongNonce, sealedData, ad, plaintext));

        var wrongKey = key.ToArray();
        wrongKey[31] ^= 1;
        Assert.False(XAead.Open(wrongKey, nonce, sealedData, ad, plaintext));
    }

    [Fact]
    public void Edge_inputs_do_not_throw()
    {
        var key = new byte[32];
        var nonce = new byte[XAead.NonceSize];
        var tagOnly = new byte[XAead.TagSize];
        XAead.Seal(key, nonce, default, default, tagOnly);
        Assert.True(XAead.Open(key, nonce, tagOnly, default, Span<byte>.Empty));
        Assert.False(XAead.Open(key, nonce, default, default, Span<byte>.Empty));
        Assert.False(XAead.Open(key, nonce, new byte[XAead.TagSize], default, Span<byte>.Empty));

        // A cookie reply seals a 16-byte cookie with a 16-byte MAC as associated data.
        var cookie = Hex.Sequence(16);
        var sealedCookie = new byte[cookie.Length + XAead.TagSize];
        XAead.Seal(key, nonce, cookie, Hex.Sequence(16), sealedCookie);
        var opened = new byte[cookie.Length];
        Assert.True(XAead.Open(key, nonce, sealedCookie, Hex.Sequence(16), opened));
        Assert.Equal(Hex.Encode(cookie), Hex.Encode(opened));
    }
}
