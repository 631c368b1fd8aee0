namespace Trellis.Crypto.Tests;

/// <summary>
/// The data path's OpenSSL context must produce exactly what <see cref="Aead"/> (checked against
/// RFC 8439 A.5) produces for WireGuard's transport messages, which carry no associated data.
/// </summary>
public class ChaChaPolyContextTests
{
    [Theory]
    [InlineData(0, 0UL)]
    [InlineData(1, 1UL)]
    [InlineData(16, 0x0807060504030201UL)]
    [InlineData(1420, ulong.MaxValue - 8192)]
    [InlineData(65519, 42UL)]
    public void Seal_in_place_matches_the_reference_AEAD_and_opens_back(int length, ulong counter)
    {
        var random = new Random(length);
        var key = new byte[32];
        random.NextBytes(key);
        var plaintext = new byte[length];
        random.NextBytes(plaintext);
        var expected = new byte[length + 16];
        Aead.Seal(key, counter, plaintext, default, expected);

        var buffer = new byte[length + 16];
        plaintext.CopyTo(buffer, 0);
        var context = ChaChaPolyContext.ForCurrentThread();
        context.Seal(key, counter, buffer.AsSpan(0, length), buffer.AsSpan(length, 16));
        Assert.Equal(expected, buffer);

        Assert.True(context.Open(key, counter, buffer.AsSpan(0, length), buffer.AsSpan(length, 16)));
        Assert.Equal(plaintext, buffer[..length]);
    }

    [Fact]
    public void Open_returns_false_without_throwing_on_a_flipped_bit_wrong_key_or_wrong_counter()
    {
        var key = new byte[32];
        key[0] = 1;
        var data = new byte[100];
        var tag = new byte[16];
        using var context = new ChaChaPolyContext();
        context.Seal(key, 7, data, tag);
        for (var bit = 0; bit < 8; bit++)
        {
            var copy = (byte[])data.Clone();
            copy[bit * 12] ^= (byte)(1 << bit);
            Assert.False(context.Open(key, 7, copy, tag));
        }

        var badTag = (byte[])tag.Clone();
        badTag[15] ^= 0x80;
        Assert.False(context.Open(key, 7, (byte[])data.Clone(), badTag));
        Assert.False(context.Open(key, 8, (byte[])data.Clone(), tag));
        var otherKey = (byte[])key.Clone();
        otherKey[31] = 9;
        Assert.False(context.Open(otherKey, 7, (byte[])data.Clone(), tag));
        Assert.False(context.Open(key.AsSpan(0, 16), 7, (byte[])data.Clone(), tag)); // short key: refused, not thrown
        Assert.True(context.Open(key, 7, data, tag)); // and the context is still good
    }

    [Fact]
    public void Sealing_and_opening_allocate_nothing()
    {
        var key = new byte[32];
        var data = new byte[1420];
        var tag = new byte[16];
        var context = ChaChaPolyContext.ForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            context.Seal(key, (ulong)i, data, tag);
            context.Open(key, (ulong)i, data, tag);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            context.Seal(key, (ulong)i, data, tag);
            Assert.True(context.Open(key, (ulong)i, data, tag));
            tag[0] ^= 1;
            Assert.False(context.Open(key, (ulong)i, data, tag));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
