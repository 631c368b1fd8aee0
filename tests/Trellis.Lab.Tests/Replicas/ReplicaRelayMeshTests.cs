using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Replicas;

/// <summary>
/// Issue 17: the replicas' embedded relays form one relay mesh with nothing configured for it, so
/// two nodes homed on different replicas' relays reach each other when no direct path exists
/// (nftables drops every UDP datagram of one node's namespace), and a replica that dies and
/// returns is meshed again.
/// </summary>
public sealed class ReplicaRelayMeshTests(ITestOutputHelper output)
{
    private const string CutTable = "trellis_replica_udp_cut";

    private static async Task CutUdpAsync(ReplicaNode node)
    {
        (await node.Host.Namespace.ExecAsync("nft", ["add", "table", "inet", CutTable], CommandOptions.Default)).EnsureSuccess();
        foreach (var hook in new[] { "input", "output" })
        {
            (await node.Host.Namespace.ExecAsync(
                "nft",
                [$"add chain inet {CutTable} {hook} {{ type filter hook {hook} priority -10; meta l4proto udp drop; }}"],
                CommandOptions.Default)).EnsureSuccess();
        }
    }

    private static async Task<JsonElement> PeerAsync(ReplicaNode node, string peer) =>
        (await node.StatusAsync()).GetProperty("peers").EnumerateArray().Single(p => p.GetProperty("hostname").GetString() == peer);

    private static async Task<string?> PathAsync(ReplicaNode node, string peer) => (await PeerAsync(node, peer)).GetProperty("path").GetString();

    private static async Task PingBothWaysAsync(ReplicaNode a, ReplicaNode b, string when)
    {
        var aAddress = await a.AddressAsync();
        var bAddress = await b.AddressAsync();
        await Poll.UntilAsync(_ => a.PingAsync(bAddress), MeshLabTimeouts.Converge, $"{a.Name} to ping {b.Name} {when}");
        await Poll.UntilAsync(_ => b.PingAsync(aAddress), MeshLabTimeouts.Converge, $"{b.Name} to ping {a.Name} {when}");
    }

    [Fact]
    public async Task Nodes_homed_on_different_replicas_relays_reach_each_other_over_the_relays_mesh_when_no_direct_path_exists_also_after_a_replica_dies_and_returns()
    {
        await using var lab = await ReplicaLab.StartAsync(output, replicas: 2);
        var a = await lab.AddNodeAsync("on-zero", first: 0, onlyFirst: true);
        var b = await lab.AddNodeAsync("on-one", first: 1, onlyFirst: true);
        await Poll.UntilAsync(async _ => await lab.ConnectedAsync(0) == 1 && await lab.ConnectedAsync(1) == 1, MeshLabTimeouts.Converge, "one node on each replica");
        await PingBothWaysAsync(a, b, "at the start");

        // Both are homed in the one region, each on its own replica's relay (each replica lists its relay as region 900 at its own host).
        await Poll.UntilAsync(
            async _ => (await a.StatusAsync()).GetProperty("self").TryGetProperty("homeRelay", out var ha) && ha.GetString() == "default"
                && (await b.StatusAsync()).GetProperty("self").TryGetProperty("homeRelay", out var hb) && hb.GetString() == "default",
            MeshLabTimeouts.Converge,
            "both nodes homed on the region of the replicas' relays");

        await CutUdpAsync(a);
        await Poll.UntilAsync(async _ => await PathAsync(a, b.Name) == "relay", MeshLabTimeouts.Converge, $"{a.Name} to show the relay to {b.Name}");
        await Poll.UntilAsync(async _ => await PathAsync(b, a.Name) == "relay", MeshLabTimeouts.Converge, $"{b.Name} to show the relay to {a.Name}");
        await PingBothWaysAsync(a, b, "with no direct path");

        // Not one lucky packet: a run of pings each way, all answered, the path still the relays.
        foreach (var (from, to) in new[] { (a, b), (b, a) })
        {
            var result = await from.Host.Namespace.ExecAsync("ping", ["-c", "20", "-i", "0.2", "-W", "2", await to.AddressAsync()], CommandOptions.Default);
            Assert.True(result.Succeeded, $"pings from {from.Name} to {to.Name} over the relays: {result}");
        }

        Assert.Equal("relay", await PathAsync(a, b.Name));
        Assert.Equal("default", (await PeerAsync(a, b.Name)).GetProperty("relay").GetString());
        Assert.Equal(1, await lab.ConnectedAsync(0));
        Assert.Equal(1, await lab.ConnectedAsync(1));

        // What an operator reads in each replica's log: its relay linked to the other's, with no flag set.
        Assert.Contains($"relay mesh: linking to the embedded relay of replica {lab.Url(1)}/relay", lab.Servers[0]!.Output, StringComparison.Ordinal);
        Assert.Contains($"relay mesh: linking to the embedded relay of replica {lab.Url(0)}/relay", lab.Servers[1]!.Output, StringComparison.Ordinal);

        // Replica 1 dies: its node moves to replica 0 (and to its relay), still reached.
        await lab.KillServerAsync(1);
        await Poll.UntilAsync(async _ => await lab.ConnectedAsync(0) == 2, MeshLabTimeouts.Converge, "both nodes on replica 0");
        await PingBothWaysAsync(a, b, "after replica 1 died");

        // It returns, and a node that comes to it reaches the node on replica 0 over the relays' mesh again.
        await lab.StartServerAsync(1);
        var c = await lab.AddNodeAsync("on-one-again", first: 1, onlyFirst: true);
        await Poll.UntilAsync(async _ => await lab.ConnectedAsync(1) == 1, MeshLabTimeouts.Converge, "the new node on the restarted replica 1");
        await Poll.UntilAsync(async _ => await PathAsync(a, c.Name) == "relay", MeshLabTimeouts.Converge, $"{a.Name} to show the relay to {c.Name}");
        await PingBothWaysAsync(a, c, "through the restarted replica's relay");
        Assert.Equal(1, await lab.ConnectedAsync(1));
    }
}
