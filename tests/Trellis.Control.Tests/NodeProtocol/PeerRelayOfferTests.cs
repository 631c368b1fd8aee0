using Trellis.Control.Tests.Admin;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.NodeProtocol;

/// <summary>
/// A node's offer to relay for its peers travels with its map request and endpoint reports, reaches
/// its peers' maps, and ends when the node withdraws it or goes offline (it is live, never stored).
/// </summary>
public sealed class PeerRelayOfferTests
{
    [Fact]
    public async Task The_offer_reaches_peers_with_the_map_request_and_ends_with_a_report_or_the_connection()
    {
        await using var server = await AdminTestServer.StartAsync();
        var relay = await server.RegisterAsync("alice", "vps");
        var peer = await server.RegisterAsync("alice", "laptop");
        using var peerSession = server.Mesh.Connect(peer.Id);
        Assert.IsType<FullMap>(await AdminTestServer.NextAsync(peerSession));

        var (session, error) = await server.Service.OpenMapAsync(relay.MachineKey, new MapRequest { Endpoints = ["198.51.100.3:41641"], PeerRelay = true });
        Assert.Null(error);
        Assert.True(await SeenByPeerAsync(peerSession, relay.Id, true));

        Assert.Null(await server.Service.UpdateEndpointsAsync(relay.MachineKey, new EndpointUpdate { Endpoints = ["198.51.100.3:41641"], PeerRelay = false }));
        Assert.True(await SeenByPeerAsync(peerSession, relay.Id, false));

        Assert.Null(await server.Service.UpdateEndpointsAsync(relay.MachineKey, new EndpointUpdate { Endpoints = ["198.51.100.3:41641"], PeerRelay = true }));
        Assert.True(await SeenByPeerAsync(peerSession, relay.Id, true));

        await server.Service.DisconnectedAsync(session!);
        Assert.False(server.Mesh.Get(relay.Id)!.PeerRelay);
        Assert.True(await SeenByPeerAsync(peerSession, relay.Id, false));
    }

    /// <summary>Reads the peer's stream until the node's entry says <paramref name="offers"/>.</summary>
    private static async Task<bool> SeenByPeerAsync(Trellis.Control.Mesh.MeshSession session, long nodeId, bool offers)
    {
        while (true)
        {
            var message = await AdminTestServer.NextAsync(session);
            if (message is MapDelta delta && delta.PeersChanged.FirstOrDefault(p => p.Id == nodeId) is { } entry && entry.PeerRelay == offers)
            {
                return true;
            }
        }
    }
}
