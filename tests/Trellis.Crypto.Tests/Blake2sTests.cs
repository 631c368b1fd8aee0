using System.Text;

namespace Trellis.Crypto.Tests;

/// <summary>
/// Known answers for <see cref="Blake2s"/>. Sources:
/// <list type="bullet">
/// <item>RFC 7693 appendix B: BLAKE2s-256("abc").</item>
/// <item>BLAKE2 reference package (github.com/BLAKE2/BLAKE2, testvectors/blake2-kat.json and
/// testvectors/blake2s-test.txt): unkeyed and keyed (key 000102..1f) BLAKE2s-256 of 00 01 02 .. (n-1).</item>
/// <item>Linux kernel lib/crypto/blake2s-selftest.c (J. Donenfeld, generated with libb2): keyed BLAKE2s
/// with a 16-byte digest length, and HMAC-BLAKE2s-256.</item>
/// <item>boringtun (cloudflare/boringtun, boringtun/src/noise/handshake.rs INITIAL_CHAIN_KEY and
/// INITIAL_CHAIN_HASH): the WireGuard construction hashes.</item>
/// </list>
/// </summary>
public class Blake2sTests
{
    // ---------------------------------------------------------------- Hash (unkeyed, 32 bytes) ---

    [Fact]
    public void Hash_of_abc_matches_RFC7693_appendix_B()
    {
        var output = new byte[Blake2s.HashSize];
        Blake2s.Hash(output, "abc"u8);
        Assert.Equal(
            Hex.Encode(Hex.Decode("50 8C 5E 8C 32 7C 14 E2 E1 A7 2B A3 4E EB 45 2F 37 45 8B 20 9E D6 3A 29 4D 99 9B 4C 86 67 59 82")),
            Hex.Encode(output));
    }

    /// <summary>blake2-kat.json, hash "blake2s", key "", in = 00 01 .. (length - 1).</summary>
    [Theory]
    [InlineData(0, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9")]
    [InlineData(1, "e34d74dbaf4ff4c6abd871cc220451d2ea2648846c7757fbaac82fe51ad64bea")]
    [InlineData(2, "ddad9ab15dac4549ba42f49d262496bef6c0bae1dd342a8808f8ea267c6e210c")]
    [InlineData(3, "e8f91c6ef232a041452ab0e149070cdd7dd1769e75b3a5921be37876c45c9900")]
    [InlineData(32, "05825607d7fdf2d82ef4c3c8c2aea961ad98d60edff7d018983e21204c0d93d1")]
    [InlineData(33, "a742f8b6af82d8a6ca2357c5f1cf91defbd066267d75c048b352366585025962")]
    [InlineData(63, "e57cb79487dd57902432b250733813bd96a84efce59f650fac26e6696aefafc3")]
    [InlineData(64, "56f34e8b96557e90c1f24b52d0c89d51086acf1b00f634cf1dde9233b8eaaa3e")]
    [InlineData(65, "1b53ee94aaf34e4b159d48de352c7f0661d0a40edff95a0b1639b4090e974472")]
    public void Hash_matches_BLAKE2_reference_unkeyed_KAT(int length, string expected)
    {
        var output = new byte[Blake2s.HashSize];
        Blake2s.Hash(output, Hex.Sequence(length));
        Assert.Equal(expected, Hex.Encode(output));
    }

    [Fact]
    public void Hash_of_the_empty_string_matches_the_KAT()
    {
        var output = new byte[Blake2s.HashSize];
        Blake2s.Hash(output, ReadOnlySpan<byte>.Empty);
        Assert.Equal("69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9", Hex.Encode(output));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(30, 64)]
    [InlineData(64, 64)]
    [InlineData(1, 2)]
    [InlineData(65, 65)]
    public void Hash_of_three_parts_is_the_hash_of_their_concatenation(int cut1, int cut2)
    {
        // The 65-byte entry of blake2-kat.json, fed in three pieces (crossing the 64-byte block).
        var input = Hex.Sequence(65);
        var output = new byte[Blake2s.HashSize];
        Blake2s.Hash(output, input.AsSpan(0, cut1), input.AsSpan(cut1, cut2 - cut1), input.AsSpan(cut2));
        Assert.Equal("1b53ee94aaf34e4b159d48de352c7f0661d0a40edff95a0b1639b4090e974472", Hex.Encode(output));
    }

    [Fact]
    public void Hash_reproduces_WireGuard_construction_hashes()
    {
        // Chaining key = HASH(CONSTRUCTION); hash = HASH(chaining key || IDENTIFIER). The expected values
        // are boringtun's INITIAL_CHAIN_KEY / INITIAL_CHAIN_HASH byte arrays, written here in hex.
        var ck = new byte[Blake2s.HashSize];
        Blake2s.Hash(ck, "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8);
        Assert.Equal("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36", Hex.Encode(ck));

        var h = new byte[Blake2s.HashSize];
        Blake2s.Hash(h, ck, "WireGuard v1 zx2c4 Jason@zx2c4.com"u8);
        Assert.Equal("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3", Hex.Encode(h));
    }

    // ---------------------------------------------------------------- Mac (keyed, 16 bytes) ---

    /// <summary>
    /// The kernel self-test's key: key[0] = key[1] = 1, key[i] = key[i-2] + key[i-1] (mod 256), 32 bytes.
    /// Entry i uses the last (13 * i) % 33 bytes of it as the key, 00 01 .. (i - 1) as the input and
    /// 1 + i % 32 as the digest length; the entries below are the ones with a 16-byte digest.
    /// These are real known answers from an independent implementation (libb2); a comparison with
    /// BouncyCastle's Blake2sDigest would not be one, since Blake2s.Mac is built on it.
    /// </summary>
    private static byte[] KernelSelftestKey()
    {
        var key = new byte[32];
        key[0] = key[1] = 1;
        for (var i = 2; i < key.Length; i++)
        {
            key[i] = (byte)(key[i - 2] + key[i - 1]);
        }

        return key;
    }

    [Theory]
    [InlineData(15, "4fe0f95212da84b7abaeb0a6472ac7f5")]
    [InlineData(47, "a3504da51d0368e95778d604f1c394d8")]
    [InlineData(79, "b1dec9f5dbf32f4cd6417d39183ec7c3")]
    [InlineData(111, "08975b80aec41d5077df1fd024f017c0")]
    [InlineData(239, "e4717b94dba0d2ff9bebad8e958ac5ed")]
    public void Mac_matches_kernel_selftest_keyed_16_byte_digests(int i, string expected)
    {
        Assert.Equal(16, 1 + (i % 32));
        var keyLength = 13 * i % 33;
        var key = KernelSelftestKey().AsSpan(32 - keyLength);
        var output = new byte[Blake2s.MacSize];
        Blake2s.Mac(output, key, Hex.Sequence(i));
        Assert.Equal(expected, Hex.Encode(output));
    }

    /// <summary>
    /// blake2s-test.txt (keyed, key 000102..1f, 32-byte digest). The digest length is in BLAKE2's
    /// parameter block, so a 16-byte MAC is a different function, not a prefix of these.
    /// </summary>
    [Theory]
    [InlineData(0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49")]
    [InlineData(1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1")]
    [InlineData(2, "6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803")]
    [InlineData(3, "1d220dbe2ee134661fdf6d9e74b41704710556f2f6e5a091b227697445dbea6b")]
    [InlineData(64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4")]
    public void Mac_is_not_a_truncated_32_byte_keyed_hash(int length, string keyed32)
    {
        var output = new byte[Blake2s.MacSize];
        Blake2s.Mac(output, Hex.Sequence(32), Hex.Sequence(length));
        Assert.NotEqual(keyed32[..32], Hex.Encode(output));
    }

    [Fact]
    public void Mac_writes_exactly_16_bytes()
    {
        var output = new byte[40];
        Array.Fill(output, (byte)0xAA);
        Blake2s.Mac(output, Hex.Sequence(32), "data"u8);
        Assert.All(output[Blake2s.MacSize..], b => Assert.Equal(0xAA, b));
    }

    // ---------------------------------------------------------------- HMAC-BLAKE2s ---

    [Fact]
    public void Hmac_matches_kernel_selftest_with_32_byte_key()
    {
        // blake2s256_hmac(hash, buf, key, sizeof(buf), sizeof(key)): data = 00..ff, key = the Fibonacci key.
        var output = new byte[Blake2s.HashSize];
        Blake2s.Hmac(output, KernelSelftestKey(), Hex.Sequence(256));
        Assert.Equal("cee1576982dcbf43ad564c70ed681696cfa473e8e8fc3279080a7582da3f0511", Hex.Encode(output));
    }

    [Fact]
    public void Hmac_matches_kernel_selftest_with_a_key_longer_than_the_block()
    {
        // blake2s256_hmac(hash, key, buf, sizeof(key), sizeof(buf)): a 256-byte key is hashed first.
        var output = new byte[Blake2s.HashSize];
        Blake2s.Hmac(output, Hex.Sequence(256), KernelSelftestKey());
        Assert.Equal("772f0c7141f44b2bb3c6b6f960dee4523866e8bf9b96c49f60d9243799d6ec31", Hex.Encode(output));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(200)]
    [InlineData(256)]
    public void Hmac_of_two_parts_is_the_hmac_of_their_concatenation(int cut)
    {
        var data = Hex.Sequence(256);
        var output = new byte[Blake2s.HashSize];
        Blake2s.Hmac(output, KernelSelftestKey(), data.AsSpan(0, cut), data.AsSpan(cut));
        Assert.Equal("cee1576982dcbf43ad564c70ed681696cfa473e8e8fc3279080a7582da3f0511", Hex.Encode(output));
    }

    [Fact]
    public void Hmac_output_may_alias_its_input()
    {
        // Kdf relies on HMAC(prk, t || i) being written over t.
        var buffer = Hex.Sequence(256);
        var expected = new byte[Blake2s.HashSize];
        Blake2s.Hmac(expected, KernelSelftestKey(), buffer);
        Blake2s.Hmac(buffer, KernelSelftestKey(), buffer);
        Assert.Equal(Hex.Encode(expected), Hex.Encode(buffer.AsSpan(0, Blake2s.HashSize)));
    }

    // ---------------------------------------------------------------- edge inputs ---

    [Fact]
    public void Edge_inputs_do_not_throw()
    {
        var hash = new byte[Blake2s.HashSize];
        var mac = new byte[Blake2s.MacSize];
        var key32 = new byte[32];

        Blake2s.Hash(hash, default, default, default);
        Blake2s.Mac(mac, key32, default);
        Blake2s.Mac(mac, new byte[1], default);
        Blake2s.Hmac(hash, default, default);
        Blake2s.Hmac(hash, default, default, default);
        Blake2s.Hmac(hash, new byte[64], default);
        Blake2s.Hmac(hash, new byte[65], default);
        Blake2s.Hmac(hash, new byte[1000], new byte[1000], new byte[1000]);
        Blake2s.Hash(hash, new byte[100_000]);
        Blake2s.Mac(mac, key32, new byte[100_000]);
    }

    [Fact]
    public void Different_keys_give_different_macs()
    {
        var a = new byte[Blake2s.MacSize];
        var b = new byte[Blake2s.MacSize];
        var key = Hex.Sequence(32);
        Blake2s.Mac(a, key, Encoding.ASCII.GetBytes("message"));
        key[31] ^= 1;
        Blake2s.Mac(b, key, Encoding.ASCII.GetBytes("message"));
        Assert.NotEqual(Hex.Encode(a), Hex.Encode(b));
    }
}
