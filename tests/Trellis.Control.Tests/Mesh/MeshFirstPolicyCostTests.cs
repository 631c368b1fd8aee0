using Trellis.Control.Mesh;
using Trellis.Control.Policy;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Mesh;

/// <summary>
/// The first policy set on a running mesh takes almost every peer away from almost every node. What
/// the mesh does for it under its lock must grow with the nodes, not with nodes x mesh: each node's
/// "every peer but these" is queued as that and listed only when the node's writer takes it.
/// </summary>
public class MeshFirstPolicyCostTests
{
    // Only u0's node may reach u1's: every other node loses every peer.
    private static readonly IAccessPolicy OnePair = new HuJsonPolicyCompiler().Compile("""
        {"acls": [{"action": "accept", "src": ["u0@"], "dst": ["u1@:22"]}]}
        """);

    private static PeerInfo Node(long id) => MeshTestPeers.NumberedNode(id, $"u{id - 1}");

    private static async Task<(MeshState Mesh, List<MeshSession> Sessions)> ConnectedMeshAsync(int nodes)
    {
        var mesh = new MeshState(() => new RelayMap(), ["100.64.0.0/10"]);
        for (var id = 1; id <= nodes; id++)
        {
            mesh.Upsert(Node(id));
        }

        var sessions = new List<MeshSession>();
        for (var id = 1; id <= nodes; id++)
        {
            sessions.Add(mesh.Connect(id));
            Assert.IsType<FullMap>(await sessions[^1].NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        }

        return (mesh, sessions);
    }

    /// <summary>Bytes allocated by setting the policy on this thread (SetPolicy runs on the caller's thread, and no writer is waiting).</summary>
    private static long AllocatedBySetPolicy(MeshState mesh)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        mesh.SetPolicy(OnePair);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public async Task Setting_a_first_policy_costs_the_mesh_in_proportion_to_its_nodes_not_nodes_times_mesh()
    {
        const int Small = 400, Large = 1600; // four times the nodes
        var (smallMesh, smallSessions) = await ConnectedMeshAsync(Small);
        var (largeMesh, largeSessions) = await ConnectedMeshAsync(Large);

        var small = AllocatedBySetPolicy(smallMesh);
        var large = AllocatedBySetPolicy(largeMesh);

        // Linear: about 4x. Before, each node's removals were copied into its own lists under the lock: about 16x.
        Assert.True(large < 8 * small, $"setting the policy allocated {small / 1024} KiB for {Small} nodes and {large / 1024} KiB for {Large}");

        // And each node still receives exactly what it lost: u5's node every other, u0's every other but u1's.
        var u5 = Assert.IsType<MapDelta>(await largeSessions[5].NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(Enumerable.Range(1, Large).Select(i => (long)i).Where(i => i != 6), u5.PeersRemoved.Order());
        var u0 = Assert.IsType<MapDelta>(await largeSessions[0].NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(Enumerable.Range(3, Large - 2).Select(i => (long)i), u0.PeersRemoved.Order());
        Assert.Empty(u0.PeersChanged);

        foreach (var session in smallSessions.Concat(largeSessions))
        {
            session.Dispose();
        }
    }
}
