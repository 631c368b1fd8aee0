namespace Trellis.Net.Tests;

public sealed class InterfaceNameTests
{
    [Theory]
    [InlineData("")]
    [InlineData("abcdefghijklmnop")] // 16 > IFNAMSIZ - 1
    [InlineData("wg/0")]
    [InlineData("wg 0")]
    [InlineData("wg:0")]
    [InlineData(".")]
    [InlineData("..")]
    public void Invalid_names_are_rejected_with_an_ArgumentException(string name)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => InterfaceName.Validate(name));
        Assert.Contains("interface name", e.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<ArgumentException>(() => new LinuxTun(name));
    }

    [Theory]
    [InlineData("wg0")]
    [InlineData("abcdefghijklmno")]
    [InlineData("trellis%d")]
    public void Valid_names_pass(string name) => InterfaceName.Validate(name);

    [Fact]
    public void Loopback_exists_and_a_made_up_name_does_not()
    {
        Assert.True(LinuxTun.InterfaceExists("lo"));
        Assert.False(LinuxTun.InterfaceExists("trnosuch0"));
        Assert.True(InterfaceName.GetMtu("lo") >= 1280);
    }
}
