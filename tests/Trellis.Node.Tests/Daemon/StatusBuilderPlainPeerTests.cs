using Trellis.Node.Daemon;
using Trellis.Node.Tests.Engine;

namespace Trellis.Node.Tests.Daemon;

/// <summary>`trellis status` names the gateway a plain WireGuard peer goes through, and says when that gateway is offline.</summary>
public class StatusBuilderPlainPeerTests
{
    [Fact]
    public void A_plain_peer_of_another_node_shows_its_gateway_and_whether_it_is_online()
    {
        var gateway = TestMaps.Peer(2, TestMaps.NewPrivateKey()) with { Online = false };
        var phone = TestMaps.Peer(9, TestMaps.NewPrivateKey(), endpoints: []) with { DiscoKey = "", Gateway = 2 };
        var self = TestMaps.Peer(1, TestMaps.NewPrivateKey());
        var status = StatusBuilder.Build("running", null, null, null, self, true, TestMaps.Map(self, gateway, phone), null);

        var shown = status.Peers.Single(p => p.Id == 9);
        Assert.Equal(("node2", false), (shown.Gateway, shown.GatewayOnline));
        Assert.Null(status.Peers.Single(p => p.Id == 2).Gateway);

        var atGateway = StatusBuilder.Build("running", null, null, null, gateway, true, TestMaps.Map(gateway, self, phone), null);
        Assert.Null(atGateway.Peers.Single(p => p.Id == 9).Gateway); // the gateway holds it itself: its own path shows
    }
}
