using System.Buffers.Binary;
using System.Text;
using SysChaCha = System.Security.Cryptography.ChaCha20Poly1305;

namespace Trellis.Crypto.Tests;

/// <summary>
/// <see cref="Aead"/> is ChaCha20-Poly1305 with WireGuard's nonce, 4 zero bytes || LE64(counter).
/// RFC 8439 section 2.8.2's nonce (07000000 4041424344454647) has a non-zero first word, so it cannot be
/// expressed; RFC 8439 appendix A.5's nonce (00000000 0102030405060708) can: it is counter
/// 0x0807060504030201. That vector is the known answer here (Bitcoin Core's crypto_tests.cpp carries it
/// the same way, as {0, 0x0807060504030201}).
/// </summary>
public class AeadTests
{
    private const string A5Key = "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
    private const ulong A5Counter = 0x0807060504030201;
    private const string A5Ad = "f33388860000000000004e91";

    private const string A5Plaintext =
        "496e7465726e65742d4472616674732061726520647261667420646f63756d65" +
        "6e74732076616c696420666f722061206d6178696d756d206f6620736978206d" +
        "6f6e74687320616e64206d617920626520757064617465642c207265706c6163" +
        "65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65" +
        "6e747320617420616e792074696d652e20497420697320696e617070726f7072" +
        "6961746520746f2075736520496e7465726e65742d4472616674732061732072" +
        "65666572656e6365206d6174657269616c206f7220746f206369746520746865" +
        "6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67" +
        "726573732e2fe2809d";

    private const string A5Ciphertext =
        "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2" +
        "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf" +
        "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855" +
        "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4" +
        "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e" +
        "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a" +
        "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10" +
        "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29" +
        "a6ad5cb4022b02709b";

    private const string A5Tag = "eead9d67890cbb22392336fea1851f38";

    [Fact]
    public void WriteNonce_is_four_zero_bytes_then_the_little_endian_counter()
    {
        var nonce = new byte[12];
        Array.Fill(nonce, (byte)0xff);
        Aead.WriteNonce(nonce, A5Counter);
        Assert.Equal("000000000102030405060708", Hex.Encode(nonce));
    }

    [Fact]
    public void Seal_matches_RFC8439_appendix_A5()
    {
        var plaintext = Hex.Decode(A5Plaintext);
        Assert.StartsWith("Internet-Drafts are draft documents", Encoding.UTF8.GetString(plaintext), StringComparison.Ordinal);
        var output = new byte[plaintext.Length + Aead.TagSize];
        Aead.Seal(Hex.Decode(A5Key), A5Counter, plaintext, Hex.Decode(A5Ad), output);
        Assert.Equal(A5Ciphertext + A5Tag, Hex.Encode(output));
    }

    [Fact]
    public void Open_matches_RFC8439_appendix_A5()
    {
        var sealedData = Hex.Decode(A5Ciphertext + A5Tag);
        var plaintext = new byte[sealedData.Length - Aead.TagSize];
        Assert.True(Aead.Open(Hex.Decode(A5Key), A5Counter, sealedData, Hex.Decode(A5Ad), plaintext));
        Assert.Equal(A5Plaintext, Hex.Encode(plaintext));
    }

    /// <summary>
    /// A cross-check against .NET's ChaCha20Poly1305 with the nonce built by hand — not a known answer
    /// (the A.5 test above is), but it pins the nonce layout for counters the vector does not cover.
    /// </summary>
    [Theory]
    [InlineData(0UL, 0)]
    [InlineData(1UL, 1)]
    [InlineData(2UL, 15)]
    [InlineData(0xffffffffUL, 16)]
    [InlineData(0x100000000UL, 17)]
    [InlineData(0x0102030405060708UL, 64)]
    [InlineData(ulong.MaxValue - 1, 1000)]
    [InlineData(ulong.MaxValue, 1420)]
    public void Seal_agrees_with_dotnet_ChaCha20Poly1305_and_an_explicit_nonce(ulong counter, int length)
    {
        var key = Hex.Sequence(32);
        var plaintext = Hex.Sequence(length);
        var ad = Encoding.ASCII.GetBytes("associated data");

        var nonce = new byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(nonce.AsSpan(4), counter);
        var expectedCiphertext = new byte[length];
        var expectedTag = new byte[16];
        using (var reference = new SysChaCha(key))
        {
            reference.Encrypt(nonce, plaintext, expectedCiphertext, expectedTag, ad);
        }

        var output = new byte[length + Aead.TagSize];
        Aead.Seal(key, counter, plaintext, ad, output);
        Assert.Equal(Hex.Encode(expectedCiphertext) + Hex.Encode(expectedTag), Hex.Encode(output));

        var opened = new byte[length];
        Assert.True(Aead.Open(key, counter, output, ad, opened));
        Assert.Equal(Hex.Encode(plaintext), Hex.Encode(opened));
    }

    [Fact]
    public void Open_fails_without_throwing_on_every_flipped_bit()
    {
        var key = Hex.Decode(A5Key);
        var ad = Hex.Decode(A5Ad);
        var sealedData = Hex.Decode(A5Ciphertext + A5Tag);
        var plaintext = new byte[sealedData.Length - Aead.TagSize];
        for (var i = 0; i < sealedData.Length; i++)
        {
            foreach (var bit in new[] { 0x01, 0x80 })
            {
                sealedData[i] ^= (byte)bit;
                Assert.False(Aead.Open(key, A5Counter, sealedData, ad, plaintext));
                Assert.All(plaintext, b => Assert.Equal(0, b));
                sealedData[i] ^= (byte)bit;
            }
        }

        Assert.True(Aead.Open(key, A5Counter, sealedData, ad, plaintext));
    }

    [Fact]
    public void Open_fails_without_throwing_on_truncated_input()
    {
        var key = Hex.Decode(A5Key);
        var ad = Hex.Decode(A5Ad);
        var sealedData = Hex.Decode(A5Ciphertext + A5Tag);
        var plaintext = new byte[sealedData.Length];
        foreach (var length in new[] { sealedData.Length - 1, sealedData.Length - Aead.TagSize, Aead.TagSize, Aead.TagSize - 1, 1, 0 })
        {
            Assert.False(Aead.Open(key, A5Counter, sealedData.AsSpan(0, length), ad, plaintext));
        }

        // Dropping the front instead of the back.
        Assert.False(Aead.Open(key, A5Counter, sealedData.AsSpan(1), ad, plaintext));
    }

    [Fact]
    public void Open_fails_without_throwing_with_wrong_associated_data_counter_or_key()
    {
        var key = Hex.Decode(A5Key);
        var ad = Hex.Decode(A5Ad);
        var sealedData = Hex.Decode(A5Ciphertext + A5Tag);
        var plaintext = new byte[sealedData.Length - Aead.TagSize];

        var wrongAd = ad.ToArray();
        wrongAd[^1] ^= 1;
        Assert.False(Aead.Open(key, A5Counter, sealedData, wrongAd, plaintext));
        Assert.False(Aead.Open(key, A5Counter, sealedData, ad.AsSpan(0, ad.Length - 1), plaintext));
        Assert.False(Aead.Open(key, A5Counter, sealedData, default, plaintext));
        Assert.False(Aead.Open(key, A5Counter + 1, sealedData, ad, plaintext));
        Assert.False(Aead.Open(key, A5Counter ^ (1UL << 63), sealedData, ad, plaintext));

        var wrongKey = key.ToArray();
        wrongKey[0] ^= 1;
        Assert.False(Aead.Open(wrongKey, A5Counter, sealedData, ad, plaintext));
    }

    [Fact]
    public void Seal_and_Open_work_in_place()
    {
        var key = Hex.Decode(A5Key);
        var ad = Hex.Decode(A5Ad);
        var plaintext = Hex.Decode(A5Plaintext);
        var buffer = new byte[plaintext.Length + Aead.TagSize];
        plaintext.CopyTo(buffer, 0);

        Aead.Seal(key, A5Counter, buffer.AsSpan(0, plaintext.Length), ad, buffer);
        Assert.Equal(A5Ciphertext + A5Tag, Hex.Encode(buffer));

        Assert.True(Aead.Open(key, A5Counter, buffer, ad, buffer.AsSpan(0, plaintext.Length)));
        Assert.Equal(A5Plaintext, Hex.Encode(buffer.AsSpan(0, plaintext.Length)));
    }

    [Fact]
    public void Edge_inputs_do_not_throw()
    {
        var key = new byte[32];
        var tagOnly = new byte[Aead.TagSize];
        Aead.Seal(key, 0, default, default, tagOnly);
        Assert.True(Aead.Open(key, 0, tagOnly, default, Span<byte>.Empty));
        Assert.False(Aead.Open(key, 1, tagOnly, default, Span<byte>.Empty));
        Assert.False(Aead.Open(key, 0, default, default, Span<byte>.Empty));
        Assert.False(Aead.Open(key, 0, new byte[Aead.TagSize], default, Span<byte>.Empty));

        var big = new byte[65_536];
        var sealedBig = new byte[big.Length + Aead.TagSize];
        Aead.Seal(key, ulong.MaxValue, big, new byte[1000], sealedBig);
        Assert.True(Aead.Open(key, ulong.MaxValue, sealedBig, new byte[1000], big));
    }
}
