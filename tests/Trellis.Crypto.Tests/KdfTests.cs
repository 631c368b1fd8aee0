namespace Trellis.Crypto.Tests;

/// <summary>
/// Known answers for <see cref="Kdf"/> from wireguard-go, device/kdf_test.go (TestKDF). There,
/// KDF3(&amp;t0, &amp;t1, &amp;t2, key, input) takes the chaining key as "key", and its outputs t0, t1, t2 are
/// the paper's τ1, τ2, τ3 — that is Kdf.Derive(key, input, t1, t2, t3) here.
/// </summary>
public class KdfTests
{
    public static TheoryData<string, string, string, string, string> WireGuardGoVectors => new()
    {
        {
            "746573742d6b6579", // "test-key"
            "746573742d696e707574", // "test-input"
            "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
            "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
            "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24"
        },
        {
            "776972656775617264", // "wireguard"
            "776972656775617264",
            "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
            "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
            "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160"
        },
        {
            "",
            "",
            "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
            "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
            "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e"
        },
    };

    [Theory]
    [MemberData(nameof(WireGuardGoVectors))]
    public void Derive_three_outputs_matches_wireguard_go_KDF3(string key, string input, string t0, string t1, string t2)
    {
        var a = new byte[32];
        var b = new byte[32];
        var c = new byte[32];
        Kdf.Derive(Hex.Decode(key), Hex.Decode(input), a, b, c);
        Assert.Equal(t0, Hex.Encode(a));
        Assert.Equal(t1, Hex.Encode(b));
        Assert.Equal(t2, Hex.Encode(c));
    }

    [Theory]
    [MemberData(nameof(WireGuardGoVectors))]
    public void Derive_two_outputs_matches_wireguard_go_KDF2(string key, string input, string t0, string t1, string t2)
    {
        _ = t2;
        var a = new byte[32];
        var b = new byte[32];
        Kdf.Derive(Hex.Decode(key), Hex.Decode(input), a, b);
        Assert.Equal(t0, Hex.Encode(a));
        Assert.Equal(t1, Hex.Encode(b));
    }

    [Theory]
    [MemberData(nameof(WireGuardGoVectors))]
    public void Derive_one_output_matches_wireguard_go_KDF1(string key, string input, string t0, string t1, string t2)
    {
        _ = t1;
        _ = t2;
        var a = new byte[32];
        Kdf.Derive(Hex.Decode(key), Hex.Decode(input), a);
        Assert.Equal(t0, Hex.Encode(a));
    }

    [Fact]
    public void Derive_may_overwrite_the_chaining_key_in_place()
    {
        // The handshake does (ck, k) = KDF2(ck, input): the first output lands on the chaining key.
        var ck = Hex.Decode("6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633");
        var input = Hex.Decode("746573742d696e707574");
        var expected1 = new byte[32];
        var expected2 = new byte[32];
        Kdf.Derive(ck.ToArray(), input, expected1, expected2);

        var k = new byte[32];
        Kdf.Derive(ck, input, ck, k);
        Assert.Equal(Hex.Encode(expected1), Hex.Encode(ck));
        Assert.Equal(Hex.Encode(expected2), Hex.Encode(k));
    }

    [Fact]
    public void Derive_three_outputs_may_overwrite_the_chaining_key_in_place()
    {
        // The pre-shared key step: (ck, tau, key) = KDF3(ck, psk).
        var ck = Hex.Decode("491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8");
        var psk = Hex.Sequence(32);
        var expected = new[] { new byte[32], new byte[32], new byte[32] };
        Kdf.Derive(ck.ToArray(), psk, expected[0], expected[1], expected[2]);

        var tau = new byte[32];
        var key = new byte[32];
        Kdf.Derive(ck, psk, ck, tau, key);
        Assert.Equal(Hex.Encode(expected[0]), Hex.Encode(ck));
        Assert.Equal(Hex.Encode(expected[1]), Hex.Encode(tau));
        Assert.Equal(Hex.Encode(expected[2]), Hex.Encode(key));
    }

    [Fact]
    public void Derive_with_a_32_byte_chaining_key_matches_hmac_chain()
    {
        // The construction written out with Blake2s.Hmac (itself pinned to the kernel's HMAC vectors):
        // prk = HMAC(ck, input); t1 = HMAC(prk, 0x01); t2 = HMAC(prk, t1 || 0x02); t3 = HMAC(prk, t2 || 0x03).
        var ck = Hex.Decode("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
        var input = Hex.Sequence(32);
        var prk = new byte[32];
        var e1 = new byte[32];
        var e2 = new byte[32];
        var e3 = new byte[32];
        Blake2s.Hmac(prk, ck, input);
        Blake2s.Hmac(e1, prk, [1]);
        Blake2s.Hmac(e2, prk, e1, [2]);
        Blake2s.Hmac(e3, prk, e2, [3]);

        var a = new byte[32];
        var b = new byte[32];
        var c = new byte[32];
        Kdf.Derive(ck, input, a, b, c);
        Assert.Equal(Hex.Encode(e1), Hex.Encode(a));
        Assert.Equal(Hex.Encode(e2), Hex.Encode(b));
        Assert.Equal(Hex.Encode(e3), Hex.Encode(c));
    }

    [Fact]
    public void Edge_inputs_do_not_throw()
    {
        var a = new byte[32];
        var b = new byte[32];
        var c = new byte[32];
        Kdf.Derive(default, default, a);
        Kdf.Derive(default, default, a, b, c);
        Kdf.Derive(new byte[200], new byte[5000], a, b, c);
        Kdf.Derive(new byte[32], default, a, default, default);
    }
}
