using System.Net;
using Trellis.Core.Keys;
using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Engine;

/// <summary>Plain WireGuard peers in the plan: held by their gateway, reached by everyone else through it.</summary>
public class PlainPeerPlanTests
{
    private static readonly Key Own = TestMaps.NewPrivateKey();
    private static readonly Key OwnPublic = Key.FromBase64(TestMaps.PublicOf(Own));

    private static EnginePlan Plan(NetMap map) => EnginePlanner.Plan(map, new EngineSettings(), OwnPublic);

    private static string[] Text(IEnumerable<IPNetwork> networks) => [.. networks.Select(n => n.ToString())];

    /// <summary>Node 9, a phone behind gateway <paramref name="gateway"/>: no disco key, no endpoints.</summary>
    private static Core.Control.PeerInfo Phone(long gateway) =>
        TestMaps.Peer(9, TestMaps.NewPrivateKey(), endpoints: []) with { DiscoKey = "", Gateway = gateway };

    [Fact]
    public void Another_nodes_plain_peer_is_no_WireGuard_peer_its_addresses_go_to_its_gateway()
    {
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), Phone(gateway: 2), TestMaps.Peer(2, TestMaps.NewPrivateKey()), TestMaps.Peer(3, TestMaps.NewPrivateKey())));

        Assert.Equal([2L, 3L], plan.Peers.Select(p => p.Id));
        Assert.Equal(["100.64.0.2/32", "fd7a:115c:a1e0::2/128", "100.64.0.9/32", "fd7a:115c:a1e0::9/128"], Text(plan.Peers[0].AllowedIps));
        Assert.Equal([TestMaps.OverlayV4, TestMaps.OverlayV6], Text(plan.Routes));
        Assert.Null(plan.SubnetRouter); // not a gateway: nothing to forward
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public void The_gateway_holds_its_plain_peer_without_an_endpoint_and_forwards_both_families()
    {
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), Phone(gateway: 1), TestMaps.Peer(2, TestMaps.NewPrivateKey())));

        var phone = Assert.Single(plan.Peers, p => p.Id == 9);
        Assert.True(phone.Plain);
        Assert.Null(phone.Endpoint); // learned from its handshakes
        Assert.Equal(["100.64.0.9/32", "fd7a:115c:a1e0::9/128"], Text(phone.AllowedIps));
        Assert.False(Assert.Single(plan.Peers, p => p.Id == 2).Plain);
        Assert.True(plan.SubnetRouter is { ForwardIPv4: true, ForwardIPv6: true });
    }

    [Fact]
    public void The_gateway_forwards_its_plain_peers_to_other_nodes_subnet_routes_without_routing_them_for_itself()
    {
        var router = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: ["10.77.0.0/24", "0.0.0.0/0"]);
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), Phone(gateway: 1), router));

        Assert.Equal(["10.77.0.0/24"], Text(plan.GatewayRoutes)); // never an exit route
        Assert.Contains("10.77.0.0/24", Text(Assert.Single(plan.Peers, p => p.Id == 2).AllowedIps));
        Assert.DoesNotContain("10.77.0.0/24", Text(plan.Routes)); // the host's own traffic keeps its routes (no --accept-routes)
        Assert.Equal(
            ["-4 priority 5305 iif trellis0 lookup 7473", "-6 priority 5305 iif trellis0 lookup 7473"],
            GatewayRouting.Rules(plan.GatewayRoutes, "trellis0").Select(r => r.ToString()));

        var notGateway = Plan(TestMaps.Map(TestMaps.Peer(1, Own), Phone(gateway: 3), router, TestMaps.Peer(3, TestMaps.NewPrivateKey())));
        Assert.Empty(notGateway.GatewayRoutes);
        Assert.DoesNotContain("10.77.0.0/24", Text(Assert.Single(notGateway.Peers, p => p.Id == 2).AllowedIps));
    }

    [Fact]
    public void Gateway_routing_puts_routes_in_its_table_before_the_rules_and_takes_everything_back_on_withdraw()
    {
        using var os = new RecordingNetworkConfig();
        var routing = new GatewayRouting(os, "trellis0");
        var failures = new List<Exception>();

        routing.Apply([IPNetwork.Parse("10.77.0.0/24")], failures);
        Assert.Empty(failures);
        Assert.Equal(2, os.Rules().Count);
        Assert.Single(os.TableRoutes());
        Assert.True(os.Log.ToList().FindIndex(l => l.StartsWith("rule add", StringComparison.Ordinal)) > os.Log.ToList().FindIndex(l => l.Contains("10.77.0.0/24", StringComparison.Ordinal)));

        routing.Withdraw(failures);
        Assert.Empty(failures);
        Assert.Empty(os.Rules());
        Assert.Empty(os.TableRoutes());
    }

    [Fact]
    public void A_plain_peer_whose_gateway_this_node_cannot_see_is_reported_not_routed()
    {
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), Phone(gateway: 5)));

        Assert.Empty(plan.Peers);
        Assert.Contains(plan.Problems, p => p.Contains("gateway 5", StringComparison.Ordinal));
    }
}
