using Trellis.Control.Mesh;
using Trellis.Control.Tests.TestDoubles;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Mesh;

/// <summary>
/// A policy that takes most of a node's peers away reaches a node that announced
/// <see cref="ControlProtocol.PeersKept"/> as the few it keeps, and an older node as the ids it loses.
/// </summary>
public class MeshKeptPeersTests
{
    private static PeerInfo Node(long id, string user) => new()
    {
        Id = id,
        Name = $"node{id}",
        NodeKey = $"nodekey{id}",
        DiscoKey = $"disco{id}",
        Addresses = [$"100.64.0.{id}/32"],
        AllowedIps = [$"100.64.0.{id}/32"],
        User = user,
    };

    private static async Task<T> Next<T>(MeshSession session)
        where T : ControlMessage =>
        Assert.IsType<T>(await session.NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));

    // alice (1), bob (2) and three others (3-5).
    private static MeshState NewMesh()
    {
        var mesh = new MeshState(() => new RelayMap(), ["100.64.0.0/10"]);
        foreach (var (id, user) in new[] { (1L, "alice"), (2L, "bob"), (3L, "carol"), (4L, "dave"), (5L, "erin") })
        {
            mesh.Upsert(Node(id, user));
        }

        return mesh;
    }

    private static async Task<MeshSession> ConnectAsync(MeshState mesh, long id, int protocol)
    {
        var session = mesh.Connect(id, protocol);
        await Next<FullMap>(session);
        return session;
    }

    [Fact]
    public async Task A_first_policy_names_the_peers_kept_to_new_nodes_and_lists_the_peers_lost_to_old_ones()
    {
        var mesh = NewMesh();
        using var alice = await ConnectAsync(mesh, 1, ControlProtocol.Current);
        using var bob = await ConnectAsync(mesh, 2, ControlProtocol.Initial);
        using var carol = await ConnectAsync(mesh, 3, ControlProtocol.Current);

        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob")));

        var toAlice = await Next<MapDelta>(alice);
        Assert.Equal([2L], toAlice.PeersKept);
        Assert.Empty(toAlice.PeersRemoved);
        var toBob = await Next<MapDelta>(bob);
        Assert.Null(toBob.PeersKept);
        Assert.Equal([3L, 4, 5], toBob.PeersRemoved.Order());
        var toCarol = await Next<MapDelta>(carol);
        Assert.Equal([], toCarol.PeersKept!);
        Assert.Empty(toCarol.PeersRemoved);
    }

    [Fact]
    public async Task A_policy_edit_that_takes_most_peers_away_names_the_peers_kept_to_a_new_node()
    {
        var mesh = NewMesh();
        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob"), ("alice", "carol"), ("alice", "dave"), ("alice", "erin")));
        using var alice = await ConnectAsync(mesh, 1, ControlProtocol.Current);

        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob")));

        var toAlice = await Next<MapDelta>(alice);
        Assert.Equal([2L], toAlice.PeersKept);
        Assert.Empty(toAlice.PeersRemoved);

        // Losing one peer of four is still said as that one.
        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob"), ("alice", "carol"), ("alice", "dave"), ("alice", "erin")));
        await Next<MapDelta>(alice);
        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob"), ("alice", "carol"), ("alice", "dave")));
        var oneLost = await Next<MapDelta>(alice);
        Assert.Null(oneLost.PeersKept);
        Assert.Equal([5L], oneLost.PeersRemoved);
    }
}
