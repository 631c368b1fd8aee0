using Trellis.Control.Mesh;
using Trellis.Control.Policy;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Mesh;

/// <summary>
/// The nodes of one policy class (a user's devices) see the same peers, so their views share one list
/// of them: a first policy on a large mesh neither copies a class's peers into every node's view nor
/// lets a node find itself among the peers it keeps.
/// </summary>
public class MeshClassViewTests
{
    private const int NodesPerUser = 100;
    private const int Nodes = 16 * NodesPerUser; // users a0-a3 (ids 1-400), b0-b3 (401-800), c0-c7 (801-1600)

    // group:a reaches group:b, and group:a's machines reach each other on SSH; the c users are in no rule.
    private static readonly IAccessPolicy Policy = new HuJsonPolicyCompiler().Compile("""
        {
          "groups": {"group:a": ["a0@", "a1@", "a2@", "a3@"], "group:b": ["b0@", "b1@", "b2@", "b3@"]},
          "acls": [
            {"action": "accept", "src": ["group:a"], "dst": ["group:b:443"]},
            {"action": "accept", "src": ["group:a"], "dst": ["group:a:22"]}
          ]
        }
        """);

    /// <summary>A hundred nodes to each user: a0 has ids 1-100, a1 101-200, ... c7 1501-1600.</summary>
    private static PeerInfo Node(long id) => MeshTestPeers.NumberedNode(id, UserOf((id - 1) / NodesPerUser));

    private static string UserOf(long user) => user < 4 ? $"a{user}" : user < 8 ? $"b{user - 4}" : $"c{user - 8}";

    private static async Task<(MeshState Mesh, List<MeshSession> Sessions)> ConnectedMeshAsync()
    {
        var mesh = new MeshState(() => new RelayMap(), ["100.64.0.0/10"]);
        for (var id = 1; id <= Nodes; id++)
        {
            mesh.Upsert(Node(id));
        }

        var sessions = new List<MeshSession>();
        for (var id = 1; id <= Nodes; id++)
        {
            sessions.Add(mesh.Connect(id, ControlProtocol.Current));
            Assert.IsType<FullMap>(await sessions[^1].NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        }

        return (mesh, sessions);
    }

    private static IEnumerable<long> Range(long first, long last) => Enumerable.Range((int)first, (int)(last - first + 1)).Select(i => (long)i);

    [Fact]
    public async Task A_first_policy_shares_each_classs_peer_list_between_its_nodes_and_no_node_keeps_itself()
    {
        var (mesh, sessions) = await ConnectedMeshAsync();

        var before = GC.GetAllocatedBytesForCurrentThread();
        mesh.SetPolicy(Policy);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // An a node keeps 799 peers, a b node 400, a c node none. A hash set of them per node (as views
        // held before) made it 19.7 MB; with one array per user, 16 in all, it is 2.1 MB: some 1.3 KB a
        // node for its filter and delta.
        const long Bound = 8 << 20;
        Assert.True(allocated < Bound, $"setting the policy allocated {allocated / 1024} KiB, over {Bound / 1024} KiB");

        // Each node keeps exactly the peers the policy gives it, never itself.
        var a7 = Assert.IsType<MapDelta>(await sessions[6].NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(Range(1, 800).Where(id => id != 7), a7.PeersKept!.Order());
        var b500 = Assert.IsType<MapDelta>(await sessions[499].NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(Range(1, 400), b500.PeersKept!.Order());
        var c900 = Assert.IsType<MapDelta>(await sessions[899].NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Empty(c900.PeersKept!);

        // A node joining group b afterwards reaches every a node as a new peer and no b node.
        mesh.Upsert(Node(Nodes + 1) with { User = "b3" });
        var a1 = Assert.IsType<MapDelta>(await sessions[0].NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal([(long)Nodes + 1], a1.PeersChanged.Select(p => p.Id));
        var a400 = Assert.IsType<MapDelta>(await sessions[399].NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal([(long)Nodes + 1], a400.PeersChanged.Select(p => p.Id));

        // And a node leaving is gone from the views of all who saw it.
        mesh.Remove(800, "deleted by an admin");
        var a1Again = Assert.IsType<MapDelta>(await sessions[0].NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal([800L], a1Again.PeersRemoved);

        // Neither reached a b node, which sees neither (a session with nothing pending answers a keepalive).
        Assert.IsType<KeepaliveMessage>(await sessions[499].NextAsync(TimeSpan.FromMilliseconds(1), CancellationToken.None));

        foreach (var session in sessions)
        {
            session.Dispose();
        }
    }
}
