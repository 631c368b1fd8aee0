using System.Text.Json;
using Trellis.Control.Mesh;
using Trellis.Control.Policy;
using Trellis.Core.Control;
using static Trellis.Control.Tests.Mesh.MeshTestPeers;

namespace Trellis.Control.Tests.Mesh;

/// <summary>
/// A peer relay is offered only to the nodes the policy lets reach it: one that sees the relay (the
/// relay may reach it) but may not reach it gets the relay's entry without the offer, and gains or
/// loses the offer when a policy edit changes that, while the entry the mesh shares stays as it is.
/// </summary>
public class MeshPeerRelayPolicyTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromMilliseconds(50);

    // the relay (1, tagged, offering), alice's laptop (2), bob's desktop (3)
    private static readonly PeerInfo Relay = Node(1, null, "tag:relay") with { PeerRelay = true, Online = true };
    private static readonly PeerInfo Alice = Node(2, "alice");
    private static readonly PeerInfo Bob = Node(3, "bob");


    // alice and bob may talk; the relay may reach bob; alice may reach the relay, and bob only when asked.
    private static IAccessPolicy Policy(bool bobMayReachRelay) => new HuJsonPolicyCompiler().Compile($$"""
        {
          "tagOwners": { "tag:relay": [] },
          "acls": [
            {"action": "accept", "src": ["alice@"], "dst": ["bob@:*", "tag:relay:41641"]},
            {"action": "accept", "src": ["tag:relay"], "dst": ["bob@:22"]},
            {{(bobMayReachRelay ? """{"action": "accept", "src": ["bob@"], "dst": ["tag:relay:*"]},""" : "")}}
          ],
        }
        """);

    private static async Task<T> Next<T>(MeshSession session)
        where T : ControlMessage =>
        Assert.IsType<T>(await session.NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));

    private static async Task NothingMore(MeshSession session) =>
        Assert.IsType<KeepaliveMessage>(await session.NextAsync(Quick, CancellationToken.None));

    private static MeshState NewMesh(IAccessPolicy policy)
    {
        var mesh = new MeshState(() => new RelayMap(), ["100.64.0.0/10"]);
        foreach (var node in new[] { Relay, Alice, Bob })
        {
            mesh.Upsert(node);
        }

        mesh.SetPolicy(policy);
        return mesh;
    }

    [Fact]
    public async Task Only_a_node_that_may_reach_the_relay_is_offered_it_and_the_shared_entry_keeps_its_offer()
    {
        var mesh = NewMesh(Policy(bobMayReachRelay: false));
        using var alice = mesh.Connect(Alice.Id);
        using var bob = mesh.Connect(Bob.Id);

        var aliceMap = await Next<FullMap>(alice);
        var bobMap = await Next<FullMap>(bob);
        var toAlice = aliceMap.Peers.Single(p => p.Id == Relay.Id);
        var toBob = bobMap.Peers.Single(p => p.Id == Relay.Id);

        // As each node reads its map off the wire (alice's written first: each entry's JSON is kept per instance).
        Assert.True(RelayAsRead(aliceMap).PeerRelay);
        Assert.False(RelayAsRead(bobMap).PeerRelay);
        Assert.True(RelayAsRead(aliceMap).PeerRelay);

        Assert.True(toAlice.PeerRelay);
        Assert.False(toBob.PeerRelay);
        Assert.Equal(Relay with { PeerRelay = false }, toBob); // everything else as the relay's entry says
        Assert.Same(mesh.Get(Relay.Id), toAlice); // alice gets the one entry every receiver shares
        Assert.True(mesh.Get(Relay.Id)!.PeerRelay);
    }

    private static PeerInfo RelayAsRead(FullMap map)
    {
        var json = JsonSerializer.Serialize<ControlMessage>(map, ControlJsonContext.Default.ControlMessage);
        var read = Assert.IsType<FullMap>(JsonSerializer.Deserialize(json, ControlJsonContext.Default.ControlMessage));
        return read.Peers.Single(p => p.Id == Relay.Id);
    }

    [Fact]
    public async Task A_policy_edit_gives_and_takes_the_offer_and_an_endpoint_change_keeps_it_withheld()
    {
        var mesh = NewMesh(Policy(bobMayReachRelay: false));
        using var alice = mesh.Connect(Alice.Id);
        using var bob = mesh.Connect(Bob.Id);
        await Next<FullMap>(alice);
        await Next<FullMap>(bob);

        // An endpoint change goes out as a patch; a withheld entry pending beside it stays withheld.
        mesh.Upsert(mesh.Get(Relay.Id)! with { Endpoints = ["198.51.100.1:41641"] });
        var patch = (await Next<MapDelta>(bob)).Patches.Single();
        Assert.Equal(["198.51.100.1:41641"], patch.Endpoints);
        await Next<MapDelta>(alice);

        mesh.SetPolicy(Policy(bobMayReachRelay: true));
        var gained = await Next<MapDelta>(bob);
        var entry = gained.PeersChanged.Single(p => p.Id == Relay.Id);
        Assert.True(entry.PeerRelay);
        Assert.Equal(["198.51.100.1:41641"], entry.Endpoints);
        await NothingMore(alice); // nothing alice sees changed

        mesh.SetPolicy(Policy(bobMayReachRelay: false));
        var lost = await Next<MapDelta>(bob);
        Assert.False(lost.PeersChanged.Single(p => p.Id == Relay.Id).PeerRelay);
        Assert.DoesNotContain(Relay.Id, lost.PeersRemoved); // bob still sees the relay: the relay may reach him
    }

    [Fact]
    public async Task An_offer_made_later_reaches_only_the_nodes_that_may_use_it()
    {
        var mesh = NewMesh(Policy(bobMayReachRelay: false));
        mesh.Upsert(mesh.Get(Relay.Id)! with { PeerRelay = false });
        using var alice = mesh.Connect(Alice.Id);
        using var bob = mesh.Connect(Bob.Id);
        Assert.False((await Next<FullMap>(alice)).Peers.Single(p => p.Id == Relay.Id).PeerRelay);
        Assert.False((await Next<FullMap>(bob)).Peers.Single(p => p.Id == Relay.Id).PeerRelay);

        mesh.Upsert(mesh.Get(Relay.Id)! with { PeerRelay = true });

        Assert.True((await Next<MapDelta>(alice)).PeersChanged.Single(p => p.Id == Relay.Id).PeerRelay);
        Assert.False((await Next<MapDelta>(bob)).PeersChanged.Single(p => p.Id == Relay.Id).PeerRelay);
    }

    [Fact]
    public void The_nodes_reaching_a_node_are_the_sources_of_its_filter_whatever_the_port()
    {
        var policy = Policy(bobMayReachRelay: false);
        var nodes = new PolicyNodeSet([PolicyNodes.From(Relay), PolicyNodes.From(Alice), PolicyNodes.From(Bob)]);

        Assert.Equal([Alice.Id], policy.NodesReaching(PolicyNodes.From(Relay), nodes));
        Assert.Equal([Relay.Id, Alice.Id], policy.NodesReaching(PolicyNodes.From(Bob), nodes).Order());
        Assert.Empty(policy.NodesReaching(PolicyNodes.From(Alice), nodes));
    }
}
