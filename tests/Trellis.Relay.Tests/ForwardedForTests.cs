using System.Net;
using Microsoft.Extensions.Primitives;
using Trellis.Relay.Server;

namespace Trellis.Relay.Tests;

/// <summary>Which client a trusted proxy's X-Forwarded-For names, entry formats and chains of proxies included.</summary>
public sealed class ForwardedForTests
{
    private static readonly IPNetwork[] Proxies = [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("fd00::/8")];

    [Theory]
    [InlineData("10.0.0.1", "198.51.100.7", "198.51.100.7")]
    [InlineData("10.0.0.1", "198.51.100.7:4000", "198.51.100.7")]
    [InlineData("10.0.0.1", "[2001:db8::7]:443", "2001:db8::7")]
    [InlineData("10.0.0.1", "2001:db8::7", "2001:db8::7")]
    [InlineData("::ffff:10.0.0.1", " 203.0.113.1 ,198.51.100.7 ", "198.51.100.7")]
    [InlineData("10.0.0.1", "203.0.113.1, 198.51.100.7, 10.0.0.2, fd00::1", "198.51.100.7")] // two proxies in a row
    [InlineData("10.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3")] // only proxies: the farthest one
    [InlineData("10.0.0.1", "198.51.100.7, unknown", "10.0.0.1")] // nonsense from the proxy: the proxy is all we know
    [InlineData("10.0.0.1", "", "10.0.0.1")]
    [InlineData("192.0.2.1", "198.51.100.7", "192.0.2.1")] // not a proxy: its header is ignored
    public void The_client_is_the_rightmost_address_that_is_not_a_trusted_proxy(string peer, string header, string client) =>
        Assert.Equal(IPAddress.Parse(client), ClientAddress.Resolve(IPAddress.Parse(peer), new StringValues(header), Proxies));

    [Fact]
    public void Several_header_lines_are_read_as_one_list_and_a_long_one_only_from_its_right_end()
    {
        Assert.Equal(IPAddress.Parse("198.51.100.7"), ClientAddress.Resolve(IPAddress.Parse("10.0.0.1"), new StringValues(["203.0.113.1", "198.51.100.7"]), Proxies));

        var padded = string.Join(", ", Enumerable.Repeat("10.9.9.9", 10_000)) + ", 198.51.100.7";
        Assert.Equal(IPAddress.Parse("198.51.100.7"), ClientAddress.Resolve(IPAddress.Parse("10.0.0.1"), new StringValues(padded), Proxies));
        var allProxies = string.Join(", ", Enumerable.Repeat("10.9.9.9", 10_000));
        Assert.Equal(IPAddress.Parse("10.9.9.9"), ClientAddress.Resolve(IPAddress.Parse("10.0.0.1"), new StringValues(allProxies), Proxies));
    }

    [Fact]
    public void Without_trusted_proxies_the_header_is_never_read() =>
        Assert.Equal(IPAddress.Parse("10.0.0.1"), ClientAddress.Resolve(IPAddress.Parse("::ffff:10.0.0.1"), new StringValues("198.51.100.7"), []));
}
