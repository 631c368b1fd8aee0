using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Replicas;

/// <summary>
/// The high-availability issue's acceptance with real processes: three `trellis server` replicas on
/// one PostgreSQL database, nodes spread over them, an admin change on one reaching nodes on the
/// others, kill -9 of the busiest replica, and its return.
/// </summary>
public sealed class ReplicaFailoverTests(ITestOutputHelper output)
{
    /// <summary>
    /// The longest a continuous ping (every 0.2 s) may go without a reply while a replica dies and its
    /// nodes move. Tunnels never depend on the control connection, so a healthy one misses a reply or
    /// two (0.21 to 0.54 s in five runs at load 7 to 67, beside moves of 0.9 to 1.7 s); 2 s is ten
    /// missed in a row, room for a busy two-core machine's stalls. A tunnel torn down with its control connection
    /// stays down for the whole move plus a handshake, so it fails here whenever the move takes about
    /// 2 s or more; a faster move still shows it in the printed gap next to the printed move time.
    /// </summary>
    private static readonly TimeSpan LongestTolerableGap = TimeSpan.FromSeconds(2);

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

        // Pings that run through the kill: between the two nodes of the replica that dies, from one
        // of them to a node on another replica, and between the nodes of the two that live.
        ContinuousPing[] pings =
        [
            ContinuousPing.Start(nodes[0], nodes[1], await nodes[1].AddressAsync()),
            ContinuousPing.Start(nodes[1], nodes[3], await nodes[3].AddressAsync()),
            ContinuousPing.Start(nodes[2], nodes[3], await nodes[3].AddressAsync()),
        ];
        await Poll.UntilAsync(() => pings.All(p => p.Replied), MeshLabTimeouts.Converge, "a first reply to each continuous ping");

        // The busiest replica dies without a word: its nodes go to the others, and the tunnels never stop.
        var killedAt = System.Diagnostics.Stopwatch.StartNew();
        await lab.KillServerAsync(0);
        await Poll.UntilAsync(
            async _ => await lab.ConnectedAsync(1) + await lab.ConnectedAsync(2) == 4, MeshLabTimeouts.Converge, "all four nodes on replicas 1 and 2");
        var moved = killedAt.Elapsed;

        // The issue's figure (5 s) is recorded, not asserted: a shared machine's pauses are no defect.
        output.WriteLine($"FIGURE moved: both nodes of the killed replica were connected to another {moved.TotalSeconds:0.00} s after the kill (the replicas' /health, polled every 0.1 s)");
        foreach (var node in nodes[..2])
        {
            Assert.NotEqual(lab.Url(0) + "/", (await node.StatusAsync()).GetProperty("connectedTo").GetString());
        }

        await AllPairsPingAsync(nodes);
        foreach (var ping in pings)
        {
            var (gap, replies) = await ping.StopAsync();
            output.WriteLine($"FIGURE gap: the longest wait for a ping reply from {ping.Pair} across the kill was {gap.TotalSeconds:0.00} s ({replies} replies at 0.2 s)");

            Assert.True(gap < LongestTolerableGap, $"the ping from {ping.Pair} went {gap.TotalSeconds:0.00} s without a reply across the kill");
        }

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

        // The database holds each node once, the one that joined during the outage among them, and
        // everything else the test made (one user, one auth key).
        var rows = await lab.QueryAsync("""SELECT "Name", "Status", "NodeKey", "MachineKey", "DiscoKey", "IPv4", "IPv6" FROM "Nodes" ORDER BY "Name" """);
        output.WriteLine($"nodes in the database: {string.Join("; ", rows.Select(r => $"{r[0]} {r[1]} {r[5]}"))}");
        Assert.Equal(["back", "late", "n0-renamed", "n1", "n2", "n3-renamed"], rows.Select(r => r[0]));
        Assert.All(rows, r => Assert.Equal("Active", r[1]));
        for (var column = 2; column < 7; column++)
        {
            Assert.Equal(rows.Length, rows.Select(r => r[column]).Distinct().Count());
        }

        Assert.Equal(["lab"], (await lab.QueryAsync("""SELECT "Name" FROM "Users" """)).Select(r => r[0]));
        Assert.Equal(["1"], (await lab.QueryAsync("""SELECT count(*) FROM "AuthKeys" """)).Select(r => r[0]));
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
