using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Engine;

public class EndpointChooserTests
{
    [Theory]
    [InlineData(false, "192.0.2.7:41641")]
    [InlineData(true, "[2001:db8::7]:41641")]
    public void The_first_usable_endpoint_of_the_preferred_family_wins(bool preferIPv6, string expected)
    {
        string[] candidates = ["nonsense", "192.0.2.9", "[2001:db8::7]:41641", "192.0.2.7:41641", "192.0.2.8:41641", "[2001:db8::8]:41641"];

        Assert.Equal(expected, EndpointChooser.Choose(candidates, preferIPv6).ToString());
    }

    [Theory]
    [InlineData(true, "192.0.2.7:41641")]
    [InlineData(false, "[2001:db8::7]:41641")]
    public void The_other_family_is_used_when_the_preferred_one_is_missing(bool preferIPv6, string only)
    {
        Assert.Equal(only, EndpointChooser.Choose([only], preferIPv6).ToString());
    }

    [Theory]
    [InlineData("0.0.0.0:41641")]
    [InlineData("[::]:41641")]
    [InlineData("224.0.0.1:41641")]
    [InlineData("[ff02::1]:41641")]
    [InlineData("[fe80::1]:41641")]
    [InlineData("192.0.2.7:0")]
    [InlineData("2001:db8::7:41641")]
    [InlineData("")]
    public void Unusable_endpoints_are_ignored(string candidate)
    {
        Assert.Null(EndpointChooser.Choose([candidate], preferIPv6: false));
    }

    [Fact]
    public void A_node_has_ipv6_when_it_reports_a_usable_ipv6_endpoint()
    {
        Assert.True(EndpointChooser.HasIPv6(["192.0.2.1:1", "[2001:db8::1]:1"]));
        Assert.False(EndpointChooser.HasIPv6(["192.0.2.1:1", "[fe80::1]:1"]));
        Assert.False(EndpointChooser.HasIPv6([]));
    }
}
