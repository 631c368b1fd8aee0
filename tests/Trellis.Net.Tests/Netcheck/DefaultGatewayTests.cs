using System.Net;
using Trellis.Net.Netcheck;

namespace Trellis.Net.Tests.Netcheck;

public sealed class DefaultGatewayTests
{
    private const string Header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

    [Fact]
    public void The_default_route_with_the_lowest_metric_names_the_gateway()
    {
        var table = Header
            + "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
            + "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
            + "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";

        Assert.Equal(IPAddress.Parse("192.0.2.1"), DefaultGateway.Parse(table));
    }

    [Theory]
    [InlineData("eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n")] // no default route
    [InlineData("eth0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n")] // not up
    [InlineData("eth0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n")] // default route without a gateway (point-to-point)
    [InlineData("garbage\n")]
    [InlineData("")]
    public void No_usable_default_route_means_no_gateway(string routes)
    {
        Assert.Null(DefaultGateway.Parse(Header + routes));
    }
}
