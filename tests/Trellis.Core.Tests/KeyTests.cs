using Trellis.Core.Keys;

namespace Trellis.Core.Tests;

public class KeyTests
{
    private const string Hex = "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a";
    private const string Base64 = "6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAno=";

    [Fact]
    public void Hex_and_base64_forms_round_trip_to_the_same_key()
    {
        var fromHex = Key.FromHex(Hex);
        var fromBase64 = Key.FromBase64(Base64);
        Assert.Equal(fromHex, fromBase64);
        Assert.Equal(Hex, fromBase64.ToHex());
        Assert.Equal(Base64, fromHex.ToBase64());
        Assert.Equal(fromHex.GetHashCode(), fromBase64.GetHashCode());
    }

    [Theory]
    [InlineData("")]
    [InlineData("e84b")]
    [InlineData("zz4b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a")]
    [InlineData("e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a00")]
    public void Bad_hex_is_refused(string text)
    {
        Assert.False(Key.TryParseHex(text, out _));
        Assert.Throws<FormatException>(() => Key.FromHex(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAn==")]
    [InlineData("6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAno")]
    [InlineData("!EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAno=")]
    public void Bad_base64_is_refused(string text)
    {
        Assert.False(Key.TryParseBase64(text, out _));
    }

    [Fact]
    public void The_zero_key_is_recognised()
    {
        Assert.True(Key.Zero.IsZero);
        Assert.False(Key.FromHex(Hex).IsZero);
        Assert.Throws<ArgumentException>(() => new Key(new byte[31]));
    }
}
