using System.Net;
using Trellis.Core.Transport;

namespace Trellis.Discovery.Tests;

/// <summary>
/// Issue 18: home accepts the office's LAN 10.99.0.0/24 as a route into its tunnel, and the office
/// announces its LAN address as a candidate. On this in-memory network that address answers
/// directly; on a real host every packet to it goes into the tunnel again, so it must never be
/// pinged, answered or chosen.
/// </summary>
public sealed class TunnelPathTests : IDisposable
{
    private static readonly IPNetwork Overlay = IPNetwork.Parse("100.64.0.0/10");
    private static readonly IPNetwork OfficeLan = IPNetwork.Parse("10.99.0.0/24");

    private readonly DiscoTestBed _bed = new();

    [Fact]
    public async Task A_candidate_inside_an_accepted_route_is_never_pinged_and_its_pings_never_make_a_path()
    {
        var home = _bed.Node("192.168.1.2");
        var office = _bed.Node("10.99.0.1");
        home.Bind.SetLocalEndpoints([home.Local]);
        office.Bind.SetLocalEndpoints([office.Local]);
        home.Bind.SetTunnelRoutes(new TunnelRoutes([Overlay, OfficeLan]));
        office.Bind.SetTunnelRoutes(new TunnelRoutes([Overlay]));
        home.Bind.SetPeers([office.AsPeer()]);
        office.Bind.SetPeers([home.AsPeer()]);

        // The office answers home's call-me-maybe by pinging home; home must drop it, as it arrives
        // from an address home reaches only through the tunnel.
        await TestNode.WaitForAsync(() => _bed.PingsSent(office.Local, home.Local) > 0, "the office's ping to home");
        await _bed.KeepTrafficAsync(home, office, 10, () =>
        {
            Assert.Equal("relay", home.Bind.GetStatus(office.NodeKey)!.Path);
            Assert.Equal(0, _bed.PingsSent(home.Local, office.Local));
        });
        Assert.Equal("relay", office.Bind.GetStatus(home.NodeKey)!.Path);
        Assert.Equal(0, home.Bind.DirectSent);
        Assert.True(home.Bind.TunnelPathsRefused > 0);
    }

    [Fact]
    public async Task A_direct_path_a_new_route_covers_is_dropped_for_the_relay_and_not_pinged_again()
    {
        var (a, b) = _bed.Pair();
        await TestNode.WaitForAsync(() => a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint == b.Local, "A's direct path to B");

        a.Bind.SetTunnelRoutes(new TunnelRoutes([IPNetwork.Parse("10.0.0.0/24")]));

        Assert.Equal("relay", a.Bind.GetStatus(b.NodeKey)!.Path);
        var pingsBefore = _bed.PingsSent(a.Local, b.Local);
        await _bed.KeepTrafficAsync(a, b, 10, () => Assert.Equal("relay", a.Bind.GetStatus(b.NodeKey)!.Path));
        Assert.Equal(pingsBefore, _bed.PingsSent(a.Local, b.Local));
    }

    [Theory]
    [InlineData("10.99.0.1:41641", true)]
    [InlineData("10.99.1.1:41641", false)]
    [InlineData("100.64.0.2:41641", true)]
    [InlineData("100.128.0.2:41641", false)]
    [InlineData("[fd7a:115c:a1e0::2]:41641", true)]
    [InlineData("[2001:db8::1]:41641", false)]
    public void Tunnel_routes_hold_IPv4_and_IPv6_prefixes(string endpoint, bool inside)
    {
        var routes = new TunnelRoutes([OfficeLan, Overlay, IPNetwork.Parse("fd7a:115c:a1e0::/48")]);

        Assert.True(Endpoint.TryParse(endpoint, out var e));
        Assert.Equal(inside, routes.Contains(e));
    }

    [Fact]
    public void An_IPv4_default_route_covers_every_IPv4_endpoint_and_no_IPv6_one()
    {
        var routes = new TunnelRoutes([IPNetwork.Parse("0.0.0.0/0")]);

        Assert.True(Endpoint.TryParse("198.51.100.7:41641", out var v4));
        Assert.True(Endpoint.TryParse("[2001:db8::1]:41641", out var v6));
        Assert.True(routes.Contains(v4));
        Assert.False(routes.Contains(v6));
    }

    public void Dispose() => _bed.Dispose();
}
