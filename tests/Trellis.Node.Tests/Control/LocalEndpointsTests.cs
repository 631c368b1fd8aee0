using System.Net;
using Trellis.Node.Control;

namespace Trellis.Node.Tests.Control;

public class LocalEndpointsTests
{
    [Fact]
    public void Endpoints_are_this_hosts_usable_addresses_with_the_port_and_IPv6_in_brackets()
    {
        var endpoints = LocalEndpoints.Gather(41641);
        Assert.NotEmpty(endpoints); // a test host has at least one non-loopback address
        foreach (var text in endpoints)
        {
            var endpoint = IPEndPoint.Parse(text);
            Assert.Equal(41641, endpoint.Port);
            Assert.False(IPAddress.IsLoopback(endpoint.Address));
            Assert.False(endpoint.Address.IsIPv6LinkLocal);
            if (endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                Assert.StartsWith("[", text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Overlay_addresses_and_a_missing_port_give_no_endpoints()
    {
        Assert.Empty(LocalEndpoints.Gather(0));
        Assert.Empty(LocalEndpoints.Gather(41641, overlayPrefixes: ["0.0.0.0/0", "::/0"]));
    }
}
