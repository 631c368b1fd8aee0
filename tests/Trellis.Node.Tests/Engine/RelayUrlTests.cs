using Trellis.Core.Control;
using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Engine;

public class RelayUrlTests
{
    private static readonly RelayNode Relay = new() { Name = "900a", Host = "198.51.100.2", Port = 8080, Tls = false, IPv4 = "198.51.100.2", IPv6 = "2001:db8::2" };

    [Theory]
    [InlineData(true, true, "http://198.51.100.2:8080/relay")]
    [InlineData(true, false, "http://198.51.100.2:8080/relay")]
    [InlineData(false, true, "http://[2001:db8::2]:8080/relay")]
    public void The_relay_is_dialled_over_a_family_this_host_has(bool hasIPv4, bool hasIPv6, string expected)
    {
        Assert.Equal(new Uri(expected), WireGuardEngine.RelayUrlFor(Relay, hasIPv4, hasIPv6));
    }

    [Fact]
    public void A_relay_named_by_host_name_is_dialled_by_name_unless_the_host_lacks_a_family()
    {
        var named = Relay with { Host = "relay.example.net", Tls = true, Port = 443 };
        Assert.Equal(new Uri("https://relay.example.net/relay"), WireGuardEngine.RelayUrlFor(named, hasIPv4: true, hasIPv6: true));
        Assert.Equal(new Uri("https://[2001:db8::2]/relay"), WireGuardEngine.RelayUrlFor(named, hasIPv4: false, hasIPv6: true));
        Assert.Equal(new Uri("https://relay.example.net/relay"), WireGuardEngine.RelayUrlFor(named with { IPv6 = null }, hasIPv4: false, hasIPv6: true));
    }
}
