using Trellis.Control.Mesh;
using Trellis.Control.Policy;
using Trellis.Control.Tests.TestDoubles;
using Trellis.Core.Control;
using static Trellis.Control.Tests.Mesh.MeshTestPeers;

namespace Trellis.Control.Tests.Mesh;

/// <summary>Under an access policy each node's map holds only the peers it may reach or be reached by, and its filter.</summary>
public class MeshPolicyTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromMilliseconds(50);

    // alice's laptop (1), bob's desktop (2), carol's phone (3)
    private static readonly PeerInfo Alice = Node(1, user: "alice");
    private static readonly PeerInfo Bob = Node(2, user: "bob");
    private static readonly PeerInfo Carol = Node(3, user: "carol");


    private static MeshState NewMesh(params PeerInfo[] nodes)
    {
        var mesh = new MeshState(() => new RelayMap(), ["100.64.0.0/10"]);
        foreach (var node in nodes)
        {
            mesh.Upsert(node);
        }

        return mesh;
    }


    private static async Task NothingMore(MeshSession session) =>
        Assert.IsType<KeepaliveMessage>(await session.NextAsync(Quick, CancellationToken.None));

    private static async Task<MeshSession> ConnectAsync(MeshState mesh, long id)
    {
        var session = mesh.Connect(id);
        await Next<FullMap>(session);
        return session;
    }

    private static IEnumerable<string> Sources(PacketFilter? filter) => filter!.Rules.SelectMany(r => r.Sources);

    [Fact]
    public async Task Without_a_policy_every_map_says_allow_all()
    {
        var mesh = NewMesh(Alice, Bob);
        using var session = mesh.Connect(1);
        var full = await Next<FullMap>(session);
        Assert.Same(PacketFilter.AllowAll, full.PacketFilter);
        Assert.Equal([2L], full.Peers.Select(p => p.Id));
    }

    [Fact]
    public async Task Each_full_map_holds_only_the_peers_the_node_may_reach_or_be_reached_by_and_its_filter()
    {
        var mesh = NewMesh(Alice, Bob, Carol);
        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob")));

        using var alice = mesh.Connect(1);
        using var bob = mesh.Connect(2);
        using var carol = mesh.Connect(3);
        var alicesMap = await Next<FullMap>(alice);
        var bobsMap = await Next<FullMap>(bob);
        var carolsMap = await Next<FullMap>(carol);

        Assert.Equal([2L], alicesMap.Peers.Select(p => p.Id));
        Assert.Empty(alicesMap.PacketFilter!.Rules); // nobody may reach alice; replies to her own flows still pass
        Assert.False(alicesMap.PacketFilter.AllowsAll);
        Assert.Equal([1L], bobsMap.Peers.Select(p => p.Id));
        Assert.Equal(["100.64.0.1/32"], Sources(bobsMap.PacketFilter));
        Assert.Empty(carolsMap.Peers);
    }

    [Fact]
    public async Task Endpoint_and_online_changes_of_a_peer_reach_only_the_nodes_that_may_see_it()
    {
        var mesh = NewMesh(Alice, Bob, Carol);
        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob")));
        using var alice = await ConnectAsync(mesh, 1);
        using var bob = await ConnectAsync(mesh, 2);
        using var carol = await ConnectAsync(mesh, 3);

        mesh.Upsert(Carol with { Endpoints = ["192.0.2.3:41641"], Online = true });
        mesh.Upsert(Alice with { Endpoints = ["192.0.2.1:41641"] });

        Assert.Equal(1L, Assert.Single((await Next<MapDelta>(bob)).Patches).Id);
        await NothingMore(bob);
        Assert.NotNull((await Next<MapDelta>(carol)).Self); // its own entry, nothing of alice
        await NothingMore(carol);
        Assert.NotNull((await Next<MapDelta>(alice)).Self); // nothing of carol
        await NothingMore(alice);
    }

    [Fact]
    public async Task A_policy_change_sends_each_node_only_what_it_gains_loses_and_its_new_filter()
    {
        var mesh = NewMesh(Alice, Bob, Carol);
        using var alice = await ConnectAsync(mesh, 1);
        using var bob = await ConnectAsync(mesh, 2);
        using var carol = await ConnectAsync(mesh, 3);

        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob")));

        var toAlice = await Next<MapDelta>(alice);
        Assert.Equal([3L], toAlice.PeersRemoved);
        Assert.Empty(toAlice.PeersChanged);
        Assert.Empty(toAlice.PacketFilter!.Rules);
        var toBob = await Next<MapDelta>(bob);
        Assert.Equal([3L], toBob.PeersRemoved);
        Assert.Equal(["100.64.0.1/32"], Sources(toBob.PacketFilter));
        var toCarol = await Next<MapDelta>(carol);
        Assert.Equal([1L, 2L], toCarol.PeersRemoved.Order());

        // The same policy again (a new object, equal content): nothing to send.
        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob")));
        await NothingMore(alice);
        await NothingMore(bob);
        await NothingMore(carol);

        // Granting carol too reaches carol and bob only; alice's view and filter stay.
        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob"), ("carol", "bob")));
        toCarol = await Next<MapDelta>(carol);
        Assert.Equal([2L], toCarol.PeersChanged.Select(p => p.Id));
        Assert.Null(toCarol.PacketFilter);
        toBob = await Next<MapDelta>(bob);
        Assert.Equal([3L], toBob.PeersChanged.Select(p => p.Id));
        Assert.Equal(["100.64.0.1/32", "100.64.0.3/32"], Sources(toBob.PacketFilter));
        await NothingMore(alice);

        // Removing the policy: everyone sees everyone again and is told to allow all.
        mesh.SetPolicy(AllowAllPolicy.Instance);
        toAlice = await Next<MapDelta>(alice);
        Assert.Equal([3L], toAlice.PeersChanged.Select(p => p.Id));
        Assert.Same(PacketFilter.AllowAll, toAlice.PacketFilter);
    }

    [Fact]
    public async Task A_joining_or_retagged_node_changes_only_the_views_it_enters_or_leaves()
    {
        var mesh = NewMesh(Alice, Carol);
        var policy = GrantPolicy.Of(("alice", "tag:server"));
        mesh.SetPolicy(policy);
        using var alice = await ConnectAsync(mesh, 1);
        using var carol = await ConnectAsync(mesh, 3);
        var (visibleBefore, filtersBefore) = (policy.VisibleCalls, policy.FilterCalls);

        var server = Node(4, null, "tag:server");
        mesh.Upsert(server);

        var toAlice = await Next<MapDelta>(alice);
        Assert.Equal([4L], toAlice.PeersChanged.Select(p => p.Id));
        Assert.Null(toAlice.PacketFilter); // the server does not reach alice: her filter stays
        await NothingMore(carol);
        Assert.Equal(visibleBefore + 1, policy.VisibleCalls); // the joining node's view only
        Assert.Equal(filtersBefore + 1, policy.FilterCalls); // alice's filter only

        using var serverSession = mesh.Connect(4);
        var serversMap = await Next<FullMap>(serverSession);
        Assert.Equal([1L], serversMap.Peers.Select(p => p.Id));
        Assert.Equal(["100.64.0.1/32"], Sources(serversMap.PacketFilter));

        mesh.Upsert(server with { Tags = ["tag:db"] });
        Assert.Equal([4L], (await Next<MapDelta>(alice)).PeersRemoved);
        var own = await Next<MapDelta>(serverSession);
        Assert.NotNull(own.Self);
        Assert.Equal([1L], own.PeersRemoved);
        Assert.Empty(own.PacketFilter!.Rules);
        await NothingMore(carol);
    }

    [Fact]
    public async Task A_node_leaving_is_announced_only_to_those_that_saw_it_and_their_filters_follow()
    {
        var mesh = NewMesh(Alice, Bob, Carol);
        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob")));
        using var bob = await ConnectAsync(mesh, 2);
        using var carol = await ConnectAsync(mesh, 3);

        mesh.Remove(1, "deleted by an admin");

        var toBob = await Next<MapDelta>(bob);
        Assert.Equal([1L], toBob.PeersRemoved);
        Assert.Empty(toBob.PacketFilter!.Rules);
        await NothingMore(carol);
    }

    [Fact]
    public async Task A_rename_under_a_policy_reaches_only_those_that_see_the_node_and_asks_the_policy_nothing()
    {
        var mesh = NewMesh(Alice, Bob, Carol);
        var policy = GrantPolicy.Of(("alice", "bob"));
        mesh.SetPolicy(policy);
        using var bob = await ConnectAsync(mesh, 2);
        using var carol = await ConnectAsync(mesh, 3);
        var (visibleBefore, filtersBefore) = (policy.VisibleCalls, policy.FilterCalls);

        mesh.Upsert(Alice with { Name = "laptop" });

        Assert.Equal("laptop", Assert.Single((await Next<MapDelta>(bob)).PeersChanged).Name);
        await NothingMore(carol);
        Assert.Equal((visibleBefore, filtersBefore), (policy.VisibleCalls, policy.FilterCalls));
    }
}
