using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Replicas;

/// <summary>
/// The high-availability issue's acceptance with real processes: three `trellis server` replicas on
/// one PostgreSQL database, nodes spread over them, an admin change on one reaching nodes on the
/// others, kill -9 of the busiest replica, and its return.
/// </summary>
public sealed class ReplicaFailoverTests(ITestOutputHelper output)
{
    private static async Task AllPairsPingAsync(IReadOnlyList<ReplicaNode> nodes)
    {
        var addresses = new Dictionary<ReplicaNode, string>();
        foreach (var node in nodes)
        {
            addresses[node] = await node.AddressAsync();
        }

        foreach (var from in nodes)
        {
            foreach (var to in nodes.Where(n => n != from))
            {
                await Poll.UntilAsync(_ => from.PingAsync(addresses[to]), MeshLabTimeouts.Converge, $"{from.Name} to ping {to.Name} at {addresses[to]}");
            }
        }
    }

    private static Task SeesAsync(ReplicaNode node, string peer) =>
        Poll.UntilAsync(async _ => (await node.PeerNamesAsync()).Contains(peer), MeshLabTimeouts.Converge, $"{node.Name} to see the peer {peer}");

    [Fact]
    public async Task Changes_on_one_replica_reach_nodes_on_the_others_and_a_killed_replicas_nodes_move_on_with_their_tunnels()
    {
        await using var lab = await ReplicaLab.StartAsync(output, replicas: 3);
        ReplicaNode[] nodes =
        [
            await lab.AddNodeAsync("n0", first: 0),
            await lab.AddNodeAsync("n1", first: 0),
            await lab.AddNodeAsync("n2", first: 1),
            await lab.AddNodeAsync("n3", first: 2),
        ];
        await Poll.UntilAsync(
            async _ => await lab.ConnectedAsync(0) == 2 && await lab.ConnectedAsync(1) == 1 && await lab.ConnectedAsync(2) == 1,
            MeshLabTimeouts.Converge,
            "two nodes on replica 0 and one on each of the others");
        await AllPairsPingAsync(nodes);

        // An admin change on replica 0 reaches the nodes connected to replicas 1 and 2.
        await lab.AdminAsync(0, "nodes", "rename", "n0", "n0-renamed");
        await SeesAsync(nodes[2], "n0-renamed");
        await SeesAsync(nodes[3], "n0-renamed");

        // The busiest replica dies without a word: its nodes go to the others, and the tunnels never stop.
        var killedAt = System.Diagnostics.Stopwatch.StartNew();
        await lab.KillServerAsync(0);
        await Poll.UntilAsync(
            async _ => await lab.ConnectedAsync(1) + await lab.ConnectedAsync(2) == 4, MeshLabTimeouts.Converge, "all four nodes on replicas 1 and 2");
        output.WriteLine($"all four nodes were seen on replicas 1 and 2 {killedAt.Elapsed.TotalSeconds:0.0} s after the kill (polled through curl; not asserted)");
        await AllPairsPingAsync(nodes);

        // A node joining during the outage (replica 0 first in its list) comes in through another.
        var late = await lab.AddNodeAsync("late", first: 0);
        await SeesAsync(nodes[3], "late");
        await AllPairsPingAsync([late, nodes[0], nodes[3]]);

        // The restarted replica rejoins: what an admin does there reaches nodes on the others,
        // and a node that comes to it gets the whole mesh, the newcomer included.
        await lab.StartServerAsync(0);
        await lab.AdminAsync(0, "nodes", "rename", "n3", "n3-renamed");
        await SeesAsync(nodes[1], "n3-renamed");
        await SeesAsync(late, "n3-renamed");
        var back = await lab.AddNodeAsync("back", first: 0);
        await Poll.UntilAsync(async _ => await lab.ConnectedAsync(0) >= 1, MeshLabTimeouts.Converge, "a node on the restarted replica");
        await Poll.UntilAsync(
            async _ => (await back.PeerNamesAsync()).SequenceEqual(["late", "n0-renamed", "n1", "n2", "n3-renamed"]),
            MeshLabTimeouts.Converge,
            "the node on the restarted replica to see every other node");
        await AllPairsPingAsync([back, late, nodes[1]]);
    }

    [Fact]
    public async Task A_node_given_one_replicas_url_learns_the_others_from_its_map_and_moves_to_one_when_its_replica_is_killed_resuming_its_map_session()
    {
        await using var lab = await ReplicaLab.StartAsync(output, replicas: 2);
        var lone = await lab.AddNodeAsync("lone", first: 0, onlyFirst: true);
        var other = await lab.AddNodeAsync("other", first: 1, onlyFirst: true);
        string[] everyReplica = [lab.Url(0) + "/", lab.Url(1) + "/"];
        await Poll.UntilAsync(
            async _ => (await lone.StatusAsync()).GetProperty("replicas").EnumerateArray().Select(u => u.GetString()).SequenceEqual(everyReplica),
            MeshLabTimeouts.Converge,
            "the node given replica 0's URL alone to learn both replicas' URLs from its map");
        Assert.Equal(lab.Url(0) + "/", (await lone.StatusAsync()).GetProperty("connectedTo").GetString());
        await AllPairsPingAsync([lone, other]);

        await lab.KillServerAsync(0);
        await Poll.UntilAsync(async _ => await lab.ConnectedAsync(1) == 2, MeshLabTimeouts.Converge, "both nodes on replica 1");
        Assert.Equal(lab.Url(1) + "/", (await lone.StatusAsync()).GetProperty("connectedTo").GetString());
        Assert.Equal(lab.Url(0), (await lone.StatusAsync()).GetProperty("server").GetString()?.TrimEnd('/')); // what it was given stays as given

        // It resumed its map session on replica 1 (one delta from the map it held), not a second full map.
        await Poll.UntilAsync(
            async _ => (await lone.StatusAsync()).GetProperty("mapResumes").GetInt32() == 1, MeshLabTimeouts.Converge, "the moved node to report its resumed map session");
        Assert.Equal(1, (await lone.StatusAsync()).GetProperty("fullMaps").GetInt32());
        await AllPairsPingAsync([lone, other]);

        // A change made now reaches the node through the replica it moved to.
        await lab.AdminAsync(1, "nodes", "rename", "other", "other-renamed");
        await SeesAsync(lone, "other-renamed");
    }
}
