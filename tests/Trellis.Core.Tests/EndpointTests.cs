using System.Net;
using Trellis.Core.Transport;

namespace Trellis.Core.Tests;

public class EndpointTests
{
    [Theory]
    [InlineData("192.0.2.1:51820", true)]
    [InlineData("[2001:db8::1]:51820", false)]
    [InlineData("[::ffff:192.0.2.1]:9", true)] // an IPv4-mapped address is IPv4
    public void Parsing_and_formatting_round_trip(string text, bool isIPv4)
    {
        Assert.True(Endpoint.TryParse(text, out var endpoint));
        Assert.Equal(isIPv4, endpoint.IsIPv4);
        var again = Endpoint.FromIPEndPoint(endpoint.ToIPEndPoint());
        Assert.Equal(endpoint, again);
        Assert.Equal(isIPv4 ? text.Replace("[::ffff:", "", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal) : text, endpoint.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("192.0.2.1")]
    [InlineData("192.0.2.1:0")]
    [InlineData("2001:db8::1:51820")]
    [InlineData("host.example:51820")]
    [InlineData("192.0.2.1:70000")]
    public void Bad_endpoints_are_refused(string text)
    {
        Assert.False(Endpoint.TryParse(text, out _));
    }

    [Fact]
    public void The_same_address_from_four_or_sixteen_bytes_is_one_endpoint()
    {
        var v4 = Endpoint.FromAddressBytes(IPAddress.Parse("198.51.100.7").GetAddressBytes(), 1);
        var mapped = Endpoint.FromAddressBytes(IPAddress.Parse("::ffff:198.51.100.7").GetAddressBytes(), 1);
        Assert.Equal(v4, mapped);
        Span<byte> four = stackalloc byte[4];
        v4.WriteAddress4(four);
        Assert.Equal(IPAddress.Parse("198.51.100.7").GetAddressBytes(), four.ToArray());
    }
}
