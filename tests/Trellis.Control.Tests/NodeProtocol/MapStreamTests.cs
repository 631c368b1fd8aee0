using Trellis.Control.NodeProtocol;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.NodeProtocol;

public class MapStreamTests
{
    private static async Task<List<SimulatedNode>> JoinAsync(ControlServerFixture server, int count, string prefix = "node")
    {
        var key = await server.AuthKeyAsync();
        var nodes = new List<SimulatedNode>();
        for (var i = 0; i < count; i++)
        {
            var node = new SimulatedNode(server.Url, $"{prefix}{i}");
            await node.ConnectAsync();
            Assert.Equal("active", (await node.RegisterAsync(key)).Status);
            await node.StartMapAsync($"198.51.100.{i + 1}:41641");
            await SimulatedNode.WaitAsync(() => node.FullMaps == 1, $"{node.Hostname}'s map");
            nodes.Add(node);
        }

        return nodes;
    }

    private static async Task DisposeAll(IEnumerable<SimulatedNode> nodes)
    {
        foreach (var n in nodes)
        {
            await n.DisposeAsync();
        }
    }

    [Fact]
    public async Task Every_node_holds_the_full_mesh_and_a_joining_node_reaches_all_without_restarts()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var nodes = await JoinAsync(server, 20);
        try
        {
            await SimulatedNode.WaitAsync(() => nodes.All(n => n.Peers.Count == 19 && n.Peers.Values.All(p => p.Online)), "every node to see 19 online peers");
            var someone = nodes[3].Peers.Values.First(p => p.Name == "node7");
            Assert.Equal(["198.51.100.8:41641"], someone.Endpoints);

            var late = (await JoinAsync(server, 1, "late"))[0];
            nodes.Add(late);
            await SimulatedNode.WaitAsync(() => nodes.All(n => n.Peers.Count == 20), "the newcomer everywhere");
            Assert.Equal(1, nodes[0].FullMaps); // by delta, not by a new full map
        }
        finally
        {
            await DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task Endpoint_changes_pushed_by_a_node_arrive_at_the_others_as_patches()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var nodes = await JoinAsync(server, 5);
        try
        {
            await SimulatedNode.WaitAsync(() => nodes.All(n => n.Peers.Count == 4), "the mesh");
            var id = nodes[0].Self!.Id;
            await nodes[0].SendAsync(new EndpointUpdate { Endpoints = ["203.0.113.5:1234", "[2001:db8::5]:1234"], HomeRelay = 901 });
            await SimulatedNode.WaitAsync(() => nodes.Skip(1).All(n => n.Peers[id].Endpoints.Count == 2 && n.Peers[id].HomeRelay == 901), "the new endpoints");
            var deltas = nodes[1].Received.OfType<MapDelta>().ToList();
            Assert.Contains(deltas, d => d.Patches.Any(p => p.Id == id));
            Assert.DoesNotContain(deltas, d => d.PeersChanged.Any(p => p.Id == id));
        }
        finally
        {
            await DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task An_advertised_route_is_invisible_to_peers_until_approved_and_gone_after_rejection()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var nodes = await JoinAsync(server, 3);
        try
        {
            var router = nodes[0];
            var id = router.Self!.Id;
            await router.SendAsync(new RouteAdvertisement { Routes = ["192.168.50.0/24"] });
            await SimulatedNode.WaitAsync(async () => (await server.Store.GetNodeByIdAsync(id))!.AdvertisedRoutes.Count == 1, "the advertisement to be stored");
            Assert.DoesNotContain("192.168.50.0/24", nodes[1].Peers[id].AllowedIps);

            var approved = await server.Store.ApproveRoutesAsync(id, ["192.168.50.0/24"]);
            server.Host.Service.Refresh(approved.Value!);
            await SimulatedNode.WaitAsync(() => nodes.Skip(1).All(n => n.Peers[id].AllowedIps.Contains("192.168.50.0/24")), "the approved route at the peers");

            var rejected = await server.Store.RejectRoutesAsync(id, ["192.168.50.0/24"]);
            server.Host.Service.Refresh(rejected.Value!);
            await SimulatedNode.WaitAsync(() => nodes.Skip(1).All(n => !n.Peers[id].AllowedIps.Contains("192.168.50.0/24")), "the route withdrawn");
        }
        finally
        {
            await DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task Auto_approval_rules_approve_covered_routes_at_once()
    {
        await using var server = await ControlServerFixture.StartAsync(o => o with
        {
            AutoApprovers = new Dictionary<string, IReadOnlyList<string>> { ["10.20.0.0/16"] = ["alice"] },
        });
        var nodes = await JoinAsync(server, 2);
        try
        {
            var id = nodes[0].Self!.Id;
            await nodes[0].SendAsync(new RouteAdvertisement { Routes = ["10.20.30.0/24", "172.16.0.0/24"] });
            await SimulatedNode.WaitAsync(() => nodes[1].Peers[id].AllowedIps.Contains("10.20.30.0/24"), "the auto-approved route");
            Assert.DoesNotContain("172.16.0.0/24", nodes[1].Peers[id].AllowedIps);
        }
        finally
        {
            await DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task Deleting_or_expiring_a_node_removes_it_everywhere_and_ends_its_stream()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var nodes = await JoinAsync(server, 4);
        try
        {
            await SimulatedNode.WaitAsync(() => nodes.All(n => n.Peers.Count == 3), "the mesh");
            var deleted = nodes[0].Self!.Id;
            await server.Store.DeleteNodeAsync(deleted);
            server.Host.Service.Removed(deleted, "deleted by an admin");
            await SimulatedNode.WaitAsync(() => nodes.Skip(1).All(n => !n.Peers.ContainsKey(deleted)), "the deletion everywhere");
            await SimulatedNode.WaitAsync(() => nodes[0].EndedWith == "stream-ended", "the deleted node's stream to end");

            var expired = nodes[1].Self!.Id;
            var result = await server.Store.ExpireNodeAsync(expired);
            server.Host.Service.Refresh(result.Value!);
            await SimulatedNode.WaitAsync(() => nodes.Skip(2).All(n => !n.Peers.ContainsKey(expired)), "the expiry everywhere");
        }
        finally
        {
            await DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task A_node_that_disconnects_is_shown_offline_and_online_again_when_it_returns()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var nodes = await JoinAsync(server, 3);
        try
        {
            var leaving = nodes[0];
            var id = leaving.Self!.Id;
            await SimulatedNode.WaitAsync(() => nodes[1].Peers.TryGetValue(id, out var p) && p.Online, "online");
            await leaving.DisconnectAsync();
            await SimulatedNode.WaitAsync(() => !nodes[1].Peers[id].Online, "offline");

            await leaving.ConnectAsync();
            await leaving.StartMapAsync("198.51.100.99:41641");
            await SimulatedNode.WaitAsync(() => nodes[1].Peers[id].Online && nodes[1].Peers[id].Endpoints.Contains("198.51.100.99:41641"), "back online");
        }
        finally
        {
            await DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task After_a_server_restart_nodes_resume_their_streams_with_the_same_identity()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var nodes = await JoinAsync(server, 4);
        try
        {
            await SimulatedNode.WaitAsync(() => nodes.All(n => n.Peers.Count == 3), "the mesh");
            var before = nodes.Select(n => (n.Self!.Id, n.Self.Addresses[0])).ToList();
            await server.RestartAsync();
            await SimulatedNode.WaitAsync(() => nodes.All(n => n.EndedWith is not null), "the old streams to end");

            foreach (var node in nodes)
            {
                await node.DisconnectAsync();
                await node.ConnectAsync();
                await node.StartMapAsync("198.51.100.200:41641");
            }

            await SimulatedNode.WaitAsync(() => nodes.All(n => n.FullMaps == 2 && n.Peers.Count == 3 && n.Peers.Values.All(p => p.Online)), "resumed maps");
            Assert.Equal(before, nodes.Select(n => (n.Self!.Id, n.Self.Addresses[0])).ToList());
        }
        finally
        {
            await DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task Logout_removes_the_node_from_the_mesh()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var nodes = await JoinAsync(server, 2);
        try
        {
            var id = nodes[0].Self!.Id;
            await SimulatedNode.WaitAsync(() => nodes[1].Peers.ContainsKey(id), "the mesh");
            await nodes[0].SendAsync(new LogoutRequest());
            await SimulatedNode.WaitAsync(() => !nodes[1].Peers.ContainsKey(id), "the logout at the peer");
            Assert.True((await server.Store.GetNodeByIdAsync(id))!.IsExpired(server.Clock.GetUtcNow()));
        }
        finally
        {
            await DisposeAll(nodes);
        }
    }

    [Fact]
    public async Task An_ephemeral_node_offline_past_its_timeout_is_deleted_and_leaves_every_map()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var nodes = await JoinAsync(server, 2);
        var ephemeralKey = await server.AuthKeyAsync(ephemeral: true);
        await using var ephemeral = new SimulatedNode(server.Url, "ci-runner");
        try
        {
            await ephemeral.ConnectAsync();
            var id = (await ephemeral.RegisterAsync(ephemeralKey)).Self!.Id;
            await ephemeral.StartMapAsync("198.51.100.50:41641");
            await SimulatedNode.WaitAsync(() => nodes.All(n => n.Peers.TryGetValue(id, out var p) && p.Online), "the ephemeral node in the mesh");

            await ephemeral.DisconnectAsync();
            await SimulatedNode.WaitAsync(() => nodes.All(n => !n.Peers[id].Online), "it to go offline");
            server.Clock.Advance(server.Options.EphemeralTimeout - TimeSpan.FromSeconds(30));
            Assert.NotNull(await server.Store.GetNodeByIdAsync(id)); // not yet
            server.Clock.Advance(TimeSpan.FromSeconds(45)); // the sweep runs every 10 s of the server's clock
            await SimulatedNode.WaitAsync(() => nodes.All(n => !n.Peers.ContainsKey(id)), "the deletion at every peer");
            Assert.Null(await server.Store.GetNodeByIdAsync(id));
        }
        finally
        {
            await DisposeAll(nodes);
        }
    }
}
