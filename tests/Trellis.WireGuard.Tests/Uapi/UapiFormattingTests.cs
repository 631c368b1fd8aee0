using System.Net;
using System.Text;
using Trellis.WireGuard.Uapi;

namespace Trellis.WireGuard.Tests.Uapi;

public sealed class UapiFormattingTests
{
    // Expected strings are what Go's netip.Addr.String prints for the same address.
    [Theory]
    [InlineData("10.0.0.1", "10.0.0.1")]
    [InlineData("::", "::")]
    [InlineData("::1", "::1")]
    [InlineData("fe80::", "fe80::")]
    [InlineData("2001:DB8:0:0:0:0:0:1", "2001:db8::1")]
    [InlineData("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1")]
    [InlineData("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1")]
    [InlineData("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7")]
    [InlineData("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0")]
    [InlineData("0:0:1:2:3:4:5:6", "::1:2:3:4:5:6")]
    [InlineData("::ffff:1.2.3.4", "::ffff:1.2.3.4")]
    [InlineData("::1.2.3.4", "::102:304")]
    [InlineData("64:ff9b::1.2.3.4", "64:ff9b::102:304")]
    [InlineData("::ffff:0:1.2.3.4", "::ffff:0:102:304")]
    public void Addresses_print_as_go_netip_prints_them(string address, string expected)
    {
        Assert.Equal(expected, new StringBuilder().AppendAddress(IPAddress.Parse(address)).ToString());
    }

    [Theory]
    [InlineData("192.0.2.1:51820", "192.0.2.1:51820")]
    [InlineData("[::ffff:192.0.2.1]:1", "192.0.2.1:1")]
    [InlineData("[2001:db8::1]:65535", "[2001:db8::1]:65535")]
    [InlineData("[fe80::1%7]:5", "[fe80::1%7]:5")]
    public void Endpoints_print_as_netip_addrport(string text, string expected)
    {
        Assert.True(UapiParsing.TryParseEndpoint(text, out var endpoint));
        Assert.Equal(expected, new StringBuilder().AppendEndpoint(endpoint).ToString());
    }
}
