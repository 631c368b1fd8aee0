using Trellis.Core.Control;

namespace Trellis.Control.Tests.NodeProtocol;

/// <summary>What a node reports about itself reaches the store and its peers only in a clean, bounded form.</summary>
public class NodeReportTests
{
    private static async Task<(SimulatedNode Sender, SimulatedNode Peer)> PairAsync(ControlServerFixture server)
    {
        var key = await server.AuthKeyAsync();
        var sender = new SimulatedNode(server.Url, "sender");
        var peer = new SimulatedNode(server.Url, "peer");
        foreach (var node in new[] { sender, peer })
        {
            await node.ConnectAsync();
            Assert.Equal("active", (await node.RegisterAsync(key)).Status);
            await node.StartMapAsync("198.51.100.9:41641");
        }

        // Each must see the other's announced endpoint, not just its entry: a map request is answered on its
        // own connection, so the peer's full map can name the sender before the sender's endpoints are in,
        // and those then follow in a delta that the pace can hold back past the test's first assertion.
        static bool Announced(SimulatedNode node) =>
            node.Peers.Values.SingleOrDefault()?.Endpoints is ["198.51.100.9:41641"];
        await SimulatedNode.WaitAsync(() => Announced(sender) && Announced(peer), "both maps, with each other's endpoint");
        return (sender, peer);
    }

    [Fact]
    public async Task A_messy_endpoint_list_reaches_peers_and_the_store_normalised()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var (sender, peer) = await PairAsync(server);
        await using var _ = sender;
        await using var __ = peer;
        var id = sender.Self!.Id;
        string[] messy =
        [
            "203.0.113.5:1234", "203.0.113.5:1234", "[::ffff:203.0.113.5]:1234", "0.0.0.0:1234", "224.0.0.1:1234",
            "203.0.113.5:0", "[fe80::1%2]:1234", .. Enumerable.Range(1, 40).Select(i => $"[2001:db8::{i:x}]:1234"),
        ];

        await sender.SendAsync(new EndpointUpdate { Endpoints = messy, HomeRelay = 900 });

        await SimulatedNode.WaitAsync(() => peer.Peers[id].HomeRelay == 900, "the update at the peer");
        var seen = peer.Peers[id].Endpoints;
        Assert.Equal(32, seen.Count);
        Assert.Equal("203.0.113.5:1234", seen[0]);
        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.DoesNotContain(seen, e => e.StartsWith("0.0.0.0", StringComparison.Ordinal) || e.StartsWith("224.", StringComparison.Ordinal) || e.Contains("fe80", StringComparison.Ordinal));
        Assert.Equal(seen, (await server.Store.GetNodeByIdAsync(id))!.Endpoints);
    }

    [Fact]
    public async Task A_malformed_endpoint_list_is_refused_with_the_reason_and_peers_keep_the_old_one()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var (sender, peer) = await PairAsync(server);
        await using var _ = sender;
        await using var __ = peer;
        var id = sender.Self!.Id;

        await sender.SendAsync(new EndpointUpdate { Endpoints = ["203.0.113.5:1234", "not-an-endpoint"], HomeRelay = 900 });

        await SimulatedNode.WaitAsync(() => sender.EndedWith == "invalid", "the refusal"); // set under the reader's lock, unlike the list
        var error = sender.Received.OfType<ErrorMessage>().Single();
        Assert.Equal("invalid", error.Code);
        Assert.Contains("invalid endpoint 'not-an-endpoint': expected ip:port, with IPv6 in brackets, e.g. 203.0.113.7:41641", error.Message, StringComparison.Ordinal);
        Assert.Equal(["198.51.100.9:41641"], peer.Peers[id].Endpoints);
        Assert.Equal(["198.51.100.9:41641"], (await server.Store.GetNodeByIdAsync(id))!.Endpoints);
    }

    [Fact]
    public async Task A_route_advertisement_inside_the_overlay_is_refused_with_the_reason()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var (sender, peer) = await PairAsync(server);
        await using var _ = sender;
        await using var __ = peer;

        await sender.SendAsync(new RouteAdvertisement { Routes = ["192.168.7.0/24", "100.64.0.0/24"] });

        await SimulatedNode.WaitAsync(() => sender.EndedWith == "invalid", "the refusal"); // set under the reader's lock, unlike the list
        var error = sender.Received.OfType<ErrorMessage>().Single();
        Assert.Equal("invalid", error.Code);
        Assert.Contains("the route '100.64.0.0/24' lies inside 100.64.0.0/10", error.Message, StringComparison.Ordinal);
        Assert.Empty((await server.Store.GetNodeByIdAsync(sender.Self!.Id))!.AdvertisedRoutes);
    }
}
