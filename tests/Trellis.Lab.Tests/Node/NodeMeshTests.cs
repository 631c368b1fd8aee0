using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// The node issue's acceptance, end to end: a control server and daemons in namespaces on one shared
/// segment (no NAT), joined with `trellis up` and checked with ping and `trellis status`.
/// </summary>
public sealed class NodeMeshTests(ITestOutputHelper output)
{
    private static readonly TimeSpan MeshTimeout = TimeSpan.FromSeconds(30);

    private static async Task AllPairsPingAsync(IReadOnlyList<LabNode> nodes)
    {
        var addresses = new Dictionary<LabNode, string[]>();
        foreach (var node in nodes)
        {
            addresses[node] = await node.AddressesAsync();
            Assert.Equal(2, addresses[node].Length); // one IPv4, one IPv6 overlay address
        }

        foreach (var from in nodes)
        {
            foreach (var to in nodes.Where(n => n != from))
            {
                foreach (var address in addresses[to])
                {
                    await Poll.UntilAsync(_ => from.PingAsync(address), MeshTimeout, $"{from.Name} to ping {to.Name} at {address}");
                }
            }
        }
    }

    private static async Task<string[]> PeerNamesAsync(LabNode node)
    {
        var status = await node.StatusAsync();
        return [.. status.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("hostname").GetString()!).Order()];
    }

    [Fact]
    public async Task Three_nodes_ping_each_other_a_deleted_one_disappears_and_a_fourth_appears_without_restarts()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var nodes = new List<LabNode>();
        foreach (var name in new[] { "alpha", "bravo", "charlie" })
        {
            var node = await mesh.AddNodeAsync(name);
            await node.UpAsync();
            nodes.Add(node);
        }

        await AllPairsPingAsync(nodes);

        // Pings prove a path, not which: the first ones may go through the relay while discovery probes.
        await Poll.UntilAsync(async _ => await nodes[0].PathAsync("bravo") == "direct" && await nodes[0].PathAsync("charlie") == "direct", MeshTimeout, "alpha direct to bravo and charlie");
        var status = await nodes[0].StatusAsync();
        Assert.Equal("alpha", status.GetProperty("self").GetProperty("hostname").GetString());
        Assert.All(status.GetProperty("peers").EnumerateArray(), p =>
        {
            Assert.Equal("direct", p.GetProperty("path").GetString());
            Assert.True(p.GetProperty("rxBytes").GetInt64() > 0);
            Assert.NotEqual(JsonValueKind.Null, p.GetProperty("lastHandshake").ValueKind);
        });

        var charlieAddresses = await nodes[2].AddressesAsync();
        await mesh.AdminAsync("nodes", "delete", "charlie");
        await Poll.UntilAsync(async _ => (await PeerNamesAsync(nodes[0])).SequenceEqual(["bravo"]), MeshTimeout, "charlie to leave alpha's peers");
        await Poll.UntilAsync(async _ => (await PeerNamesAsync(nodes[1])).SequenceEqual(["alpha"]), MeshTimeout, "charlie to leave bravo's peers");
        Assert.False(await nodes[0].PingAsync(charlieAddresses[0]));

        var delta = await mesh.AddNodeAsync("delta");
        await delta.UpAsync();
        await Poll.UntilAsync(async _ => (await PeerNamesAsync(nodes[0])).SequenceEqual(["bravo", "delta"]), MeshTimeout, "delta to join alpha's peers");
        await AllPairsPingAsync([nodes[0], nodes[1], delta]);
        Assert.Null(nodes[0].Daemon.ExitCode); // nobody restarted
        Assert.Null(nodes[1].Daemon.ExitCode);
    }

    [Fact]
    public async Task Without_the_control_server_tunnels_keep_working_and_a_restarted_daemon_comes_back_from_its_cached_map_and_resumes_from_it()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var a = await mesh.AddNodeAsync("alpha");
        var b = await mesh.AddNodeAsync("bravo");
        await a.UpAsync();
        await b.UpAsync();
        await AllPairsPingAsync([a, b]);
        var bAddresses = await b.AddressesAsync();

        // The server is also the relay: the tunnel it leaves behind is the direct one.
        await Poll.UntilAsync(async _ => await a.PathAsync(b.Name) == "direct" && await b.PathAsync(a.Name) == "direct", MeshTimeout, "alpha and bravo direct both ways");
        await mesh.Server.StopAsync();
        Assert.True(await a.PingAsync(bAddresses[0]));

        await a.Daemon.StopAsync();
        await a.StartDaemonAsync();
        await Poll.UntilAsync(_ => a.PingAsync(bAddresses[0]), MeshTimeout, "alpha, restarted with the server down, to reach bravo");
        await Poll.UntilAsync(_ => a.PingAsync(bAddresses[1]), MeshTimeout, "alpha to reach bravo over IPv6");

        // The server is back: alpha resumes its map session from the map it restarted with, no full map.
        // Its retries backed off while the server was down (up to 60 s apart), hence the longer wait.
        await mesh.StartServerAsync();
        await Poll.UntilAsync(async _ => (await a.StatusAsync()).GetProperty("mapResumes").GetInt32() == 1, TimeSpan.FromSeconds(90), "alpha to resume its map session from the cached map");
        Assert.Equal(0, (await a.StatusAsync()).GetProperty("fullMaps").GetInt32());
        Assert.True(await a.PingAsync(bAddresses[0]));
    }

    [Fact]
    public async Task A_subnet_route_is_reachable_only_after_approval_and_not_after_rejection()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var router = await mesh.AddNodeAsync("router");
        var client = await mesh.AddNodeAsync("client");

        // A LAN behind the router: one more namespace it alone can reach.
        await using var lanHost = await NetNamespace.CreateAsync();
        await using var lan = await VethLink.CreateAsync(
            router.Host.Namespace, lanHost, LabAddress.Parse("192.168.77.1/24"), null, LabAddress.Parse("192.168.77.10/24"), null);
        await lanHost.IpAsync("route", "add", "default", "via", "192.168.77.1");

        await router.UpAsync("--advertise-routes", "192.168.77.0/24");
        await client.UpAsync("--accept-routes");
        await AllPairsPingAsync([router, client]);
        Assert.False(await client.PingAsync("192.168.77.10"), "the route is not approved yet");

        await mesh.AdminAsync("routes", "approve", "router", "192.168.77.0/24");
        await Poll.UntilAsync(_ => client.PingAsync("192.168.77.10"), MeshTimeout, "the client to reach the LAN host through the approved route");

        await mesh.AdminAsync("routes", "reject", "router", "192.168.77.0/24");
        await Poll.UntilAsync(async _ => !await client.PingAsync("192.168.77.10"), MeshTimeout, "the rejected route to be withdrawn");
    }
}
