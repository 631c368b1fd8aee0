using System.Net;
using Trellis.Core.Keys;
using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Engine;

public class EnginePlannerTests
{
    private static readonly Key Own = TestMaps.NewPrivateKey();
    private static readonly Key OwnPublic = Key.FromBase64(TestMaps.PublicOf(Own));

    private static EnginePlan Plan(NetMap map, EngineSettings? settings = null) => EnginePlanner.Plan(map, settings ?? new EngineSettings(), OwnPublic);

    private static string[] Text(IEnumerable<IPNetwork> networks) => [.. networks.Select(n => n.ToString())];

    [Fact]
    public void Split_tunnel_routes_only_the_overlay_and_peers_get_only_their_addresses()
    {
        var peer = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: ["192.168.50.0/24"]);
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), peer));

        Assert.Equal(["100.64.0.1/32", "fd7a:115c:a1e0::1/128"], plan.Addresses.Select(a => a.ToString()));
        Assert.Equal([TestMaps.OverlayV4, TestMaps.OverlayV6], Text(plan.Routes));
        Assert.Equal(["100.64.0.2/32", "fd7a:115c:a1e0::2/128"], Text(Assert.Single(plan.Peers).AllowedIps));
        Assert.Null(plan.SubnetRouter);
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public void Accepting_routes_adds_each_peers_subnet_routes_to_routes_and_allowed_ips()
    {
        var b = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: ["192.168.50.0/24", "fd00:50::/64"]);
        var c = TestMaps.Peer(3, TestMaps.NewPrivateKey(), routes: ["10.20.0.0/16"]);
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), c, b), new EngineSettings { AcceptRoutes = true });

        Assert.Equal([TestMaps.OverlayV4, TestMaps.OverlayV6, "192.168.50.0/24", "fd00:50::/64", "10.20.0.0/16"], Text(plan.Routes));
        Assert.Equal([2L, 3L], plan.Peers.Select(p => p.Id));
        Assert.Equal(["100.64.0.2/32", "fd7a:115c:a1e0::2/128", "192.168.50.0/24", "fd00:50::/64"], Text(plan.Peers[0].AllowedIps));
        Assert.Equal(["100.64.0.3/32", "fd7a:115c:a1e0::3/128", "10.20.0.0/16"], Text(plan.Peers[1].AllowedIps));
    }

    [Theory]
    [InlineData("0.0.0.0/1")] // half the internet, through the tunnel
    [InlineData("8.8.8.8/32")] // a host outside the overlay
    [InlineData("100.64.0.0/24")] // inside the overlay, but more than one host
    public void A_peer_address_that_is_not_one_host_inside_the_overlay_is_neither_routed_nor_allowed(string forged)
    {
        var peer = TestMaps.Peer(2, TestMaps.NewPrivateKey()) is var p ? p with { Addresses = [forged, .. p.Addresses] } : null!;
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), peer), new EngineSettings { AcceptRoutes = true });

        Assert.DoesNotContain(plan.Routes, r => r.ToString() == forged);
        Assert.Equal(["100.64.0.2/32", "fd7a:115c:a1e0::2/128"], Text(Assert.Single(plan.Peers).AllowedIps));
        Assert.Contains(plan.Problems, p => p.Contains(forged, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("0.0.0.0/1")]
    [InlineData("8.0.0.0/8")]
    [InlineData("2000::/3")]
    public void An_overlay_prefix_outside_private_address_space_is_not_routed(string forged)
    {
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), TestMaps.Peer(2, TestMaps.NewPrivateKey())) with { OverlayPrefixes = [TestMaps.OverlayV4, TestMaps.OverlayV6, forged] });

        Assert.Equal([TestMaps.OverlayV4, TestMaps.OverlayV6], Text(plan.Routes));
        Assert.Contains(plan.Problems, p => p.Contains(forged, StringComparison.Ordinal) && p.Contains("private address space", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("100.64.0.0/24")] // inside the overlay: would steal other peers' addresses
    [InlineData("100.0.0.0/8")] // contains the overlay
    [InlineData("fd7a:115c:a1e0:1::/64")]
    public void A_subnet_route_overlapping_the_overlay_is_never_installed(string route)
    {
        var peer = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: [route, "192.168.50.0/24"]);
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), TestMaps.Peer(3, TestMaps.NewPrivateKey()), peer), new EngineSettings { AcceptRoutes = true });

        Assert.DoesNotContain(plan.Routes, r => r.ToString() == route);
        Assert.All(plan.Peers, p => Assert.DoesNotContain(p.AllowedIps, a => a.ToString() == route));
        Assert.Contains(plan.Routes, r => r.ToString() == "192.168.50.0/24");
        Assert.Contains(plan.Problems, p => p.Contains(route, StringComparison.Ordinal) && p.Contains("overlay", StringComparison.Ordinal));
    }

    [Fact]
    public void Subnet_routes_are_installed_only_with_accept_routes()
    {
        var peer = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: ["192.168.50.0/24"]);
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), peer));

        Assert.Equal([TestMaps.OverlayV4, TestMaps.OverlayV6], Text(plan.Routes));
        Assert.Equal(["100.64.0.2/32", "fd7a:115c:a1e0::2/128"], Text(Assert.Single(plan.Peers).AllowedIps));
    }

    [Theory]
    [InlineData("10.0.0.0/8")] // covers the node's own LAN
    [InlineData("10.1.0.0/16")] // is the node's own LAN
    [InlineData("10.1.2.0/24")] // lies inside it
    public void A_route_overlapping_this_nodes_own_advertised_prefix_is_never_installed(string route)
    {
        var peer = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: [route, "172.16.0.0/12"]);
        var plan = Plan(
            TestMaps.Map(TestMaps.Peer(1, Own), peer),
            new EngineSettings { AcceptRoutes = true, AdvertisedRoutes = ["10.1.0.0/16"] });

        Assert.DoesNotContain(plan.Routes, r => r.ToString() == route);
        Assert.DoesNotContain(plan.Peers[0].AllowedIps, r => r.ToString() == route);
        Assert.Contains(plan.Routes, r => r.ToString() == "172.16.0.0/12");
        Assert.Contains(plan.Problems, p => p.Contains(route, StringComparison.Ordinal) && p.Contains("loop", StringComparison.Ordinal));
    }

    [Fact]
    public void Routes_the_server_gives_this_node_count_as_its_own_even_when_not_advertised_in_settings()
    {
        var self = TestMaps.Peer(1, Own, routes: ["192.168.7.0/24"]);
        var peer = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: ["192.168.0.0/16"]);
        var plan = Plan(TestMaps.Map(self, peer), new EngineSettings { AcceptRoutes = true });

        Assert.Equal([TestMaps.OverlayV4, TestMaps.OverlayV6], Text(plan.Routes));
    }

    [Fact]
    public void An_exit_nodes_default_routes_are_not_used_unless_it_is_chosen()
    {
        var peer = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: ["0.0.0.0/0", "::/0"]);
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), peer), new EngineSettings { AcceptRoutes = true });

        Assert.Equal([TestMaps.OverlayV4, TestMaps.OverlayV6], Text(plan.Routes));
        Assert.Equal(["100.64.0.2/32", "fd7a:115c:a1e0::2/128"], Text(Assert.Single(plan.Peers).AllowedIps));
        Assert.Null(plan.ExitNode);
        Assert.Empty(plan.Problems);
    }

    [Theory]
    [InlineData("node2")]
    [InlineData("NODE2")]
    [InlineData("100.64.0.2")]
    [InlineData("fd7a:115c:a1e0::2")]
    public void The_chosen_exit_node_gets_the_default_routes_as_allowed_IPs_and_the_main_table_none(string given)
    {
        var exit = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: ["0.0.0.0/0", "::/0"]);
        var other = TestMaps.Peer(3, TestMaps.NewPrivateKey(), routes: ["0.0.0.0/0", "::/0"]);
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), exit, other), new EngineSettings { ExitNode = given });

        Assert.Equal([TestMaps.OverlayV4, TestMaps.OverlayV6], Text(plan.Routes));
        Assert.Equal(["100.64.0.2/32", "fd7a:115c:a1e0::2/128", "0.0.0.0/0", "::/0"], Text(plan.Peers[0].AllowedIps));
        Assert.Equal(["100.64.0.3/32", "fd7a:115c:a1e0::3/128"], Text(plan.Peers[1].AllowedIps));
        Assert.Equal(2, plan.ExitNode?.PeerId);
        Assert.Equal(["100.64.0.1", "fd7a:115c:a1e0::1"], plan.ExitNode!.Sources.Select(a => a.ToString()));
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public void An_exit_node_not_approved_keeps_the_exit_routing_but_gets_no_default_route_so_nothing_leaks()
    {
        var notApproved = TestMaps.Peer(2, TestMaps.NewPrivateKey());
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), notApproved), new EngineSettings { ExitNode = "node2" });

        Assert.NotNull(plan.ExitNode);
        Assert.Null(plan.ExitNode.PeerId);
        Assert.Contains("node2 is not an exit node", plan.ExitNode.Problem, StringComparison.Ordinal);
        Assert.Equal(["100.64.0.2/32", "fd7a:115c:a1e0::2/128"], Text(Assert.Single(plan.Peers).AllowedIps));
        Assert.Contains(plan.Problems, p => p.Contains("internet traffic is dropped", StringComparison.Ordinal));
    }

    [Fact]
    public void An_exit_node_forwards_and_masquerades_the_overlay_to_everywhere_but_does_not_treat_its_default_routes_as_its_own_LAN()
    {
        var self = TestMaps.Peer(1, Own, routes: ["0.0.0.0/0", "::/0"]);
        var router = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: ["192.168.50.0/24"]);
        var plan = Plan(TestMaps.Map(self, router), new EngineSettings { AdvertisedRoutes = ["0.0.0.0/0", "::/0"], AcceptRoutes = true });

        Assert.NotNull(plan.SubnetRouter);
        Assert.True(plan.SubnetRouter.ForwardIPv4 && plan.SubnetRouter.ForwardIPv6);
        Assert.Equal([$"{TestMaps.OverlayV4} -> 0.0.0.0/0", $"{TestMaps.OverlayV6} -> ::/0"], plan.SubnetRouter.Masquerade.Select(m => m.ToString()));
        Assert.Contains(IPNetwork.Parse("192.168.50.0/24"), plan.Routes);
    }

    [Fact]
    public void A_prefix_two_peers_route_goes_to_the_lower_id_only()
    {
        var b = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: ["192.168.9.0/24"]);
        var c = TestMaps.Peer(3, TestMaps.NewPrivateKey(), routes: ["192.168.9.0/24"]);
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), c, b), new EngineSettings { AcceptRoutes = true });

        Assert.Contains(plan.Peers[0].AllowedIps, r => r.ToString() == "192.168.9.0/24");
        Assert.DoesNotContain(plan.Peers[1].AllowedIps, r => r.ToString() == "192.168.9.0/24");
        Assert.Single(plan.Routes, r => r.ToString() == "192.168.9.0/24");
    }

    [Fact]
    public void Host_bits_in_a_route_are_cleared()
    {
        var peer = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: ["192.168.1.77/24"]);
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), peer), new EngineSettings { AcceptRoutes = true });

        Assert.Contains(plan.Routes, r => r.ToString() == "192.168.1.0/24");
    }

    [Fact]
    public void Peers_with_a_bad_key_this_nodes_own_key_or_a_duplicate_key_are_skipped_with_a_problem()
    {
        var key = TestMaps.PublicOf(TestMaps.NewPrivateKey());
        var map = TestMaps.Map(
            TestMaps.Peer(1, Own),
            TestMaps.Peer(2, "not-a-key"),
            TestMaps.Peer(3, Own),
            TestMaps.Peer(4, key),
            TestMaps.Peer(5, key));
        var plan = Plan(map);

        Assert.Equal([4L], plan.Peers.Select(p => p.Id));
        Assert.Equal(3, plan.Problems.Count);
    }

    [Fact]
    public void Unparseable_prefixes_are_skipped_and_reported()
    {
        var self = TestMaps.Peer(1, Own) with { Addresses = ["100.64.0.1/32", "nonsense", "100.64.0.1/33"] };
        var plan = Plan(TestMaps.Map(self) with { OverlayPrefixes = [TestMaps.OverlayV4, "1.2.3/8"] });

        Assert.Equal(["100.64.0.1/32"], plan.Addresses.Select(a => a.ToString()));
        Assert.Equal([TestMaps.OverlayV4], Text(plan.Routes));
        Assert.Equal(3, plan.Problems.Count);
    }

    [Fact]
    public void Advertised_routes_not_yet_approved_do_not_make_a_subnet_router()
    {
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own)), new EngineSettings { AdvertisedRoutes = ["192.168.1.0/24"] });

        Assert.Null(plan.SubnetRouter);
    }

    [Fact]
    public void Approved_routes_forward_their_family_and_masquerade_from_the_overlay_of_the_same_family()
    {
        var self = TestMaps.Peer(1, Own, routes: ["192.168.1.0/24"]);
        var plan = Plan(TestMaps.Map(self), new EngineSettings { AdvertisedRoutes = ["192.168.1.0/24", "192.168.2.0/24"] });

        var router = Assert.IsType<SubnetRouterPlan>(plan.SubnetRouter);
        Assert.Equal(["192.168.1.0/24"], Text(router.Prefixes));
        Assert.True(router.ForwardIPv4);
        Assert.False(router.ForwardIPv6);
        var rule = Assert.Single(router.Masquerade);
        Assert.Equal((TestMaps.OverlayV4, "192.168.1.0/24"), (rule.Source.ToString(), rule.Destination.ToString()));
    }

    [Fact]
    public void Without_masquerade_a_subnet_router_only_forwards()
    {
        var self = TestMaps.Peer(1, Own, routes: ["fd00:1::/64"]);
        var plan = Plan(TestMaps.Map(self), new EngineSettings { AdvertisedRoutes = ["fd00:1::/64"], Masquerade = false });

        var router = Assert.IsType<SubnetRouterPlan>(plan.SubnetRouter);
        Assert.False(router.ForwardIPv4);
        Assert.True(router.ForwardIPv6);
        Assert.Empty(router.Masquerade);
    }

    [Fact]
    public void Endpoints_prefer_ipv6_only_when_this_node_reports_an_ipv6_endpoint()
    {
        var peer = TestMaps.Peer(2, TestMaps.NewPrivateKey(), endpoints: ["192.0.2.2:41641", "[2001:db8::2]:41641"]);
        var v4Only = Plan(TestMaps.Map(TestMaps.Peer(1, Own, endpoints: ["192.0.2.1:41641"]), peer));
        var dual = Plan(TestMaps.Map(TestMaps.Peer(1, Own, endpoints: ["192.0.2.1:41641", "[2001:db8::1]:41641"]), peer));

        Assert.Equal("192.0.2.2:41641", v4Only.Peers[0].Endpoint.ToString());
        Assert.Equal("[2001:db8::2]:41641", dual.Peers[0].Endpoint.ToString());
    }
}
