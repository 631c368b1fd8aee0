namespace Trellis.Net.Tests;

public sealed class UdpBufferSizeTests
{
    [Theory]
    [InlineData(null, 7 << 20)]
    [InlineData("", 7 << 20)]
    [InlineData("4194304", 4 << 20)]
    [InlineData("4M", 4 << 20)]
    [InlineData(" 512k ", 512 << 10)]
    [InlineData("65536", 64 << 10)]
    public void A_size_in_bytes_KiB_or_MiB_is_taken(string? value, int expected) =>
        Assert.Equal(expected, UdpBufferSize.Parse(value));

    [Theory]
    [InlineData("lots")]
    [InlineData("-4M")]
    [InlineData("1000")] // below 64 KiB: a socket that small would drop bursts
    [InlineData("2048M")] // past 1 GiB
    [InlineData("99999999999999999999")]
    [InlineData("M")]
    public void A_malformed_or_unreasonable_size_falls_back_to_the_default(string value) =>
        Assert.Equal(UdpBufferSize.Default, UdpBufferSize.Parse(value));
}
