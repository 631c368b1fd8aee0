using Trellis.Core.Metrics;

namespace Trellis.Core.Tests;

/// <summary>The metrics listener's address: an IP and a port, and an error that says what would do.</summary>
public sealed class MetricsAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:9090", "127.0.0.1:9090")]
    [InlineData(" 0.0.0.0:9100 ", "0.0.0.0:9100")]
    [InlineData("[::1]:9090", "[::1]:9090")]
    [InlineData("[::]:9090", "[::]:9090")]
    public void An_address_and_port_is_taken(string given, string expected) =>
        Assert.Equal(expected, MetricsAddress.TryParse(given, out _)?.ToString());

    [Theory]
    [InlineData("", "is empty; give ADDRESS:PORT, e.g. 127.0.0.1:9090")]
    [InlineData("9090", "'9090' is not ADDRESS:PORT; e.g. 127.0.0.1:9090, or [::1]:9090 for IPv6")]
    [InlineData("::1:9090", "'::1:9090' is not ADDRESS:PORT; e.g. 127.0.0.1:9090, or [::1]:9090 for IPv6")]
    [InlineData("localhost:9090", "'localhost' is not an IP address; a metrics listener binds an address, e.g. 127.0.0.1:9090")]
    [InlineData("127.0.0.1:0", "'0' is not a port (1-65535)")]
    [InlineData("127.0.0.1:http", "'http' is not a port (1-65535)")]
    public void Anything_else_is_refused_with_what_would_do(string given, string expected)
    {
        Assert.Null(MetricsAddress.TryParse(given, out var error));
        Assert.Equal(expected, error);
    }
}
