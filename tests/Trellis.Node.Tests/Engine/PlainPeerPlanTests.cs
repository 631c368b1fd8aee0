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
    public void A_plain_peer_whose_gateway_this_node_cannot_see_is_reported_not_routed()
    {
        var plan = Plan(TestMaps.Map(TestMaps.Peer(1, Own), Phone(gateway: 5)));

        Assert.Empty(plan.Peers);
        Assert.Contains(plan.Problems, p => p.Contains("gateway 5", StringComparison.Ordinal));
    }
}
