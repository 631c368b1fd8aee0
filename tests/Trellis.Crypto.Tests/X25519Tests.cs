using Trellis.Core.Keys;

namespace Trellis.Crypto.Tests;

/// <summary>
/// Known answers for <see cref="X25519"/> from RFC 7748 section 5.2 (single and iterated vectors) and
/// section 6.1 (Alice and Bob). The low-order points are the list of cr.yp.to/ecdh.html#validate as
/// libsodium and Crypto++ carry it.
/// </summary>
public class X25519Tests
{
    private static Key K(string hex) => Key.FromHex(hex);

    [Theory]
    [InlineData(
        "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
        "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")]
    [InlineData(
        // The u-coordinate's top bit is set (0x93): RFC 7748 says it must be masked, not rejected.
        "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
        "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
        "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")]
    public void SharedSecret_matches_RFC7748_section_5_2(string scalar, string u, string expected)
    {
        var shared = new byte[X25519.KeySize];
        Assert.True(X25519.SharedSecret(K(scalar), K(u), shared));
        Assert.Equal(expected, Hex.Encode(shared));
    }

    [Fact]
    public void SharedSecret_matches_RFC7748_section_5_2_iterated_1_and_1000_times()
    {
        // k = u = 9; each round: k, u = X25519(k, u), k.
        var k = new byte[32];
        var u = new byte[32];
        k[0] = 9;
        u[0] = 9;
        var r = new byte[32];
        for (var i = 1; i <= 1000; i++)
        {
            Assert.True(X25519.SharedSecret(new Key(k), new Key(u), r));
            k.CopyTo(u, 0);
            r.CopyTo(k, 0);
            if (i == 1)
            {
                Assert.Equal("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", Hex.Encode(k));
            }
        }

        Assert.Equal("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", Hex.Encode(k));
    }

    private const string AlicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private const string AlicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    private const string BobPrivate = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    private const string BobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private const string SharedK = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    [Fact]
    public void PublicKey_matches_RFC7748_section_6_1()
    {
        // The RFC's private keys are not clamped as printed; X25519 clamps them itself.
        Assert.Equal(AlicePublic, X25519.PublicKey(K(AlicePrivate)).ToHex());
        Assert.Equal(BobPublic, X25519.PublicKey(K(BobPrivate)).ToHex());
    }

    [Fact]
    public void SharedSecret_matches_RFC7748_section_6_1_both_ways()
    {
        var ab = new byte[32];
        var ba = new byte[32];
        Assert.True(X25519.SharedSecret(K(AlicePrivate), K(BobPublic), ab));
        Assert.True(X25519.SharedSecret(K(BobPrivate), K(AlicePublic), ba));
        Assert.Equal(SharedK, Hex.Encode(ab));
        Assert.Equal(SharedK, Hex.Encode(ba));
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")] // 0
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")] // 1
    [InlineData("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")] // order 8
    [InlineData("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157")] // order 8
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p - 1
    [InlineData("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p (= 0)
    [InlineData("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p + 1 (= 1)
    [InlineData("0000000000000000000000000000000000000000000000000000000000000080")] // 0 with the top bit set
    [InlineData("0100000000000000000000000000000000000000000000000000000000000080")] // 1 with the top bit set
    [InlineData("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880")] // order 8, top bit set
    public void SharedSecret_is_false_for_a_low_order_public_key(string lowOrder)
    {
        var shared = new byte[32];
        Assert.False(X25519.SharedSecret(K(AlicePrivate), K(lowOrder), shared));
        Assert.False(X25519.SharedSecret(X25519.GeneratePrivateKey(), K(lowOrder), shared));
    }

    [Fact]
    public void GeneratePrivateKey_is_clamped_and_random()
    {
        var seen = new HashSet<Key>();
        for (var i = 0; i < 64; i++)
        {
            var key = X25519.GeneratePrivateKey();
            var b = key.ToArray();
            Assert.Equal(0, b[0] & 7);
            Assert.Equal(0, b[31] & 0x80);
            Assert.Equal(0x40, b[31] & 0x40);
            Assert.True(seen.Add(key));
        }
    }

    [Fact]
    public void Clamp_clears_the_low_three_bits_and_the_top_bit_and_sets_bit_254()
    {
        var ones = new byte[32];
        Array.Fill(ones, (byte)0xff);
        X25519.Clamp(ones);
        Assert.Equal("f8ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", Hex.Encode(ones));

        var zeros = new byte[32];
        X25519.Clamp(zeros);
        Assert.Equal("0000000000000000000000000000000000000000000000000000000000000040", Hex.Encode(zeros));

        var alice = Hex.Decode(AlicePrivate);
        X25519.Clamp(alice);
        Assert.Equal(AlicePublic, X25519.PublicKey(new Key(alice)).ToHex());
    }

    [Fact]
    public void Generated_keys_agree()
    {
        var a = X25519.GeneratePrivateKey();
        var b = X25519.GeneratePrivateKey();
        var ab = new byte[32];
        var ba = new byte[32];
        Assert.True(X25519.SharedSecret(a, X25519.PublicKey(b), ab));
        Assert.True(X25519.SharedSecret(b, X25519.PublicKey(a), ba));
        Assert.Equal(Hex.Encode(ab), Hex.Encode(ba));
    }

    [Fact]
    public void Edge_inputs_do_not_throw()
    {
        var shared = new byte[64];
        _ = X25519.PublicKey(Key.Zero);
        _ = X25519.SharedSecret(Key.Zero, Key.Zero, shared);
        _ = X25519.SharedSecret(Key.Zero, K(BobPublic), shared);
        var ones = new byte[32];
        Array.Fill(ones, (byte)0xff);
        _ = X25519.SharedSecret(new Key(ones), new Key(ones), shared);
    }
}
