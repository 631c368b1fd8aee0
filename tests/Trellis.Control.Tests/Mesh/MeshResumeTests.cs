using Trellis.Control.Mesh;
using Trellis.Control.Policy;
using Trellis.Control.Tests.TestDoubles;
using Trellis.Core.Control;
using static Trellis.Control.Tests.Mesh.MeshTestPeers;

namespace Trellis.Control.Tests.Mesh;

/// <summary>
/// A node reconnecting with the map it holds (<see cref="MapResume"/>) is sent one delta from that map
/// to its view now, and a full map whenever the server cannot tell what it holds.
/// </summary>
public class MeshResumeTests
{
    private static readonly IReadOnlyList<string> Overlay = ["100.64.0.0/10"];

    private static MeshState NewMesh(params (long Id, string User)[] nodes)
    {
        var mesh = new MeshState(() => new RelayMap(), Overlay);
        foreach (var (id, user) in nodes)
        {
            mesh.Upsert(Node(id, user));
        }

        return mesh;
    }

    /// <summary>Connects, takes the full map, and hangs up: what the node holds when its replica goes.</summary>
    private static async Task<Dictionary<long, PeerInfo>> HeldAfterAsync(MeshState mesh, long id)
    {
        using var session = mesh.Connect(id, ControlProtocol.Current);
        var full = await Next<FullMap>(session);
        mesh.Disconnect(session);
        return full.Peers.ToDictionary(p => p.Id);
    }

    private static MapResume ResumeOf(Dictionary<long, PeerInfo> held) => MapDigest.Resume(held.Values, Overlay, null);

    /// <summary>The node's side of a delta, as the protocol orders it (changed, removed).</summary>
    private static void Apply(Dictionary<long, PeerInfo> held, MapDelta delta)
    {
        foreach (var peer in delta.PeersChanged)
        {
            held[peer.Id] = peer;
        }

        foreach (var id in delta.PeersRemoved)
        {
            held.Remove(id);
        }
    }

    /// <summary>What a full map would give the node now, to compare a resumed map with.</summary>
    private static async Task<List<PeerInfo>> FreshPeersAsync(MeshState mesh, long id)
    {
        using var session = mesh.Connect(id, ControlProtocol.Current);
        var full = await Next<FullMap>(session);
        mesh.Disconnect(session);
        return [.. full.Peers.OrderBy(p => p.Id)];
    }

    [Fact]
    public async Task A_node_resuming_is_sent_only_what_changed_while_it_was_away_and_ends_with_the_map_a_full_map_would_give()
    {
        var mesh = NewMesh((1, "a"), (2, "a"), (3, "a"), (4, "a"));
        var held = await HeldAfterAsync(mesh, 1);

        // Away: 2 moves, 3 is deleted, 5 joins; 4 stays as it was.
        mesh.Upsert(Node(2, "a") with { Endpoints = ["198.51.100.2:41641"], Online = true });
        mesh.Remove(3, "deleted");
        mesh.Upsert(Node(5, "a"));

        using var session = mesh.Connect(1, ControlProtocol.Current, ResumeOf(held));
        var delta = await Next<MapDelta>(session);
        Assert.True(session.Resumed);
        Assert.Equal([2L, 5L], delta.PeersChanged.Select(p => p.Id).Order());
        Assert.Equal([3L], delta.PeersRemoved);
        Assert.Equal(1, delta.Self!.Id);
        Assert.NotNull(delta.RelayMap);

        Apply(held, delta);
        Assert.Equal(await FreshPeersAsync(mesh, 1), held.Values.OrderBy(p => p.Id));
    }

    [Fact]
    public async Task A_node_that_missed_nothing_is_sent_no_peers_and_later_changes_follow_as_usual()
    {
        var mesh = NewMesh((1, "a"), (2, "a"), (3, "a"));
        var held = await HeldAfterAsync(mesh, 1);

        using var session = mesh.Connect(1, ControlProtocol.Current, ResumeOf(held));
        var delta = await Next<MapDelta>(session);
        Assert.Empty(delta.PeersChanged);
        Assert.Empty(delta.PeersRemoved);

        mesh.Upsert(Node(4, "a"));
        Assert.Equal([4L], (await Next<MapDelta>(session)).PeersChanged.Select(p => p.Id));
    }

    [Fact]
    public async Task A_first_connect_an_older_node_and_an_unreadable_or_foreign_description_each_get_a_full_map()
    {
        var mesh = NewMesh((1, "a"), (2, "a"), (3, "a"));
        var held = await HeldAfterAsync(mesh, 1);
        var resume = ResumeOf(held);

        var cases = new (int Protocol, MapResume? Resume)[]
        {
            (ControlProtocol.Current, null), // a first connect
            (ControlProtocol.PlainPeerReports, resume), // a node below the level: it would not apply the answer
            (ControlProtocol.Current, resume with { Peers = "not base64!" }),
            (ControlProtocol.Current, resume with { Peers = Convert.ToBase64String(new byte[MapDigest.RecordSize + 3]) }), // a cut record
            (ControlProtocol.Current, resume with { Peers = Convert.ToBase64String(new byte[2 * MapDigest.RecordSize]) }), // one id twice
            (ControlProtocol.Current, resume with { Settings = resume.Settings + 1 }), // other overlay prefixes or names: a delta cannot carry them
        };
        foreach (var (protocol, given) in cases)
        {
            using var session = mesh.Connect(1, protocol, given);
            var full = await Next<FullMap>(session);
            Assert.False(session.Resumed);
            Assert.Equal([2L, 3L], full.Peers.Select(p => p.Id).Order());
            mesh.Disconnect(session);
        }
    }

    [Fact]
    public async Task A_policy_set_while_the_node_was_away_comes_with_the_resume_as_its_filter_and_the_peers_it_takes_away()
    {
        var mesh = NewMesh((1, "alice"), (2, "bob"), (3, "carol"), (4, "dave"));
        var held = await HeldAfterAsync(mesh, 1);

        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob")));

        using var session = mesh.Connect(1, ControlProtocol.Current, ResumeOf(held));
        var delta = await Next<MapDelta>(session);
        Assert.Equal([3L, 4L], delta.PeersRemoved.Order());
        Assert.Empty(delta.PeersChanged);
        Assert.NotNull(delta.PacketFilter);
        Assert.False(delta.PacketFilter.AllowsAll);

        // And back: the policy removed while away widens the view again and says the filter allows all.
        Apply(held, delta);
        mesh.Disconnect(session);
        mesh.SetPolicy(AllowAllPolicy.Instance);
        using var again = mesh.Connect(1, ControlProtocol.Current, ResumeOf(held));
        var widened = await Next<MapDelta>(again);
        Assert.Equal([3L, 4L], widened.PeersChanged.Select(p => p.Id).Order());
        Assert.True(widened.PacketFilter!.AllowsAll);
    }

    [Fact]
    public async Task Digests_a_node_claims_for_peers_it_may_not_see_or_does_not_hold_as_sent_win_it_nothing()
    {
        var mesh = NewMesh((1, "alice"), (2, "bob"), (3, "carol"));
        mesh.SetPolicy(GrantPolicy.Of(("alice", "bob")));
        var held = await HeldAfterAsync(mesh, 1);
        Assert.Equal([2L], held.Keys);

        // The node says it holds carol (hidden from it) and a doctored bob: carol is removed, bob sent again as he is.
        var claimed = new Dictionary<long, PeerInfo>
        {
            [2] = held[2] with { AllowedIps = ["0.0.0.0/0"] },
            [3] = Node(3, "carol"),
        };
        using var session = mesh.Connect(1, ControlProtocol.Current, ResumeOf(claimed));
        var delta = await Next<MapDelta>(session);
        Assert.Equal([3L], delta.PeersRemoved);
        Assert.Equal(held[2], Assert.Single(delta.PeersChanged));
    }
}
