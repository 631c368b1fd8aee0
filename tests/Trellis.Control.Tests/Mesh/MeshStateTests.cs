using Trellis.Control.Mesh;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Mesh;

public class MeshStateTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromMilliseconds(50);

    private static PeerInfo Node(long id, params string[] endpoints) => new()
    {
        Id = id,
        Name = $"node{id}",
        NodeKey = $"nodekey{id}",
        DiscoKey = $"disco{id}",
        Addresses = [$"100.64.0.{id}/32"],
        AllowedIps = [$"100.64.0.{id}/32"],
        Endpoints = endpoints,
    };

    private static MeshState NewMesh() => new(() => new RelayMap(), ["100.64.0.0/10"]);

    private static async Task<T> Next<T>(MeshSession session)
        where T : ControlMessage
    {
        var message = await session.NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        return Assert.IsType<T>(message);
    }

    [Fact]
    public async Task A_new_session_starts_with_the_full_map_of_every_other_node()
    {
        var mesh = NewMesh();
        for (var i = 1; i <= 5; i++)
        {
            mesh.Upsert(Node(i));
        }

        using var session = mesh.Connect(3);
        var full = await Next<FullMap>(session);
        Assert.Equal(3, full.Self.Id);
        Assert.Equal([1L, 2, 4, 5], full.Peers.Select(p => p.Id).Order());
        Assert.IsType<KeepaliveMessage>(await session.NextAsync(Quick, CancellationToken.None));
    }

    [Fact]
    public async Task A_joining_node_reaches_every_session_as_one_changed_peer_and_itself_as_self()
    {
        var mesh = NewMesh();
        mesh.Upsert(Node(1));
        mesh.Upsert(Node(2));
        using var one = mesh.Connect(1);
        using var two = mesh.Connect(2);
        await Next<FullMap>(one);
        await Next<FullMap>(two);

        mesh.Upsert(Node(3));
        var delta = await Next<MapDelta>(one);
        Assert.Equal([3L], delta.PeersChanged.Select(p => p.Id));
        Assert.Empty(delta.Patches);
        Assert.Equal([3L], (await Next<MapDelta>(two)).PeersChanged.Select(p => p.Id));
    }

    [Fact]
    public async Task An_endpoint_change_is_a_patch_not_a_whole_entry_and_changes_coalesce()
    {
        var mesh = NewMesh();
        mesh.Upsert(Node(1, "192.0.2.1:1"));
        mesh.Upsert(Node(2));
        using var two = mesh.Connect(2);
        await Next<FullMap>(two);

        mesh.Upsert(Node(1, "192.0.2.1:2"));
        mesh.Upsert(Node(1, "192.0.2.1:3") with { HomeRelay = 901 });
        var delta = await Next<MapDelta>(two);
        Assert.Empty(delta.PeersChanged);
        var patch = Assert.Single(delta.Patches);
        Assert.Equal(["192.0.2.1:3"], patch.Endpoints);
        Assert.Equal(901, patch.HomeRelay);
        Assert.Null(patch.Online);
        Assert.IsType<KeepaliveMessage>(await two.NextAsync(Quick, CancellationToken.None)); // nothing more queued
    }

    [Fact]
    public async Task An_unchanged_entry_sends_nothing()
    {
        var mesh = NewMesh();
        mesh.Upsert(Node(1, "192.0.2.1:1"));
        mesh.Upsert(Node(2));
        using var two = mesh.Connect(2);
        await Next<FullMap>(two);
        mesh.Upsert(Node(1, "192.0.2.1:1"));
        Assert.IsType<KeepaliveMessage>(await two.NextAsync(Quick, CancellationToken.None));
    }

    [Fact]
    public async Task A_removed_node_leaves_every_map_and_its_own_stream_ends()
    {
        var mesh = NewMesh();
        mesh.Upsert(Node(1));
        mesh.Upsert(Node(2));
        using var one = mesh.Connect(1);
        using var two = mesh.Connect(2);
        await Next<FullMap>(one);
        await Next<FullMap>(two);

        mesh.Upsert(Node(1, "192.0.2.9:9")); // pending for two, then cancelled by the removal
        mesh.Remove(1, "deleted by an admin");
        var delta = await Next<MapDelta>(two);
        Assert.Equal([1L], delta.PeersRemoved);
        Assert.Empty(delta.Patches);
        Assert.Null(await one.NextAsync(Quick, CancellationToken.None));
        Assert.Equal("deleted by an admin", one.CloseReason);
    }

    [Fact]
    public async Task A_route_approval_resends_the_entry_and_tells_the_node_itself()
    {
        var mesh = NewMesh();
        mesh.Upsert(Node(1));
        mesh.Upsert(Node(2));
        using var one = mesh.Connect(1);
        using var two = mesh.Connect(2);
        await Next<FullMap>(one);
        await Next<FullMap>(two);

        mesh.Upsert(Node(1) with { AllowedIps = ["100.64.0.1/32", "192.168.50.0/24"] });
        var delta = await Next<MapDelta>(two);
        Assert.Equal(["100.64.0.1/32", "192.168.50.0/24"], Assert.Single(delta.PeersChanged).AllowedIps);
        var own = await Next<MapDelta>(one);
        Assert.NotNull(own.Self);
        Assert.Empty(own.PeersChanged);
    }

    [Fact]
    public async Task A_second_connection_of_one_node_replaces_the_first()
    {
        var mesh = NewMesh();
        mesh.Upsert(Node(1));
        using var first = mesh.Connect(1);
        using var second = mesh.Connect(1);
        Assert.Null(await first.NextAsync(Quick, CancellationToken.None));
        Assert.Equal("replaced by a newer connection", first.CloseReason);
        await Next<FullMap>(second);
        Assert.Equal(1, mesh.SessionCount);
    }

    [Fact]
    public void Relay_admission_knows_active_node_keys_and_forgets_rotated_and_removed_ones()
    {
        var mesh = NewMesh();
        mesh.Upsert(Node(1));
        Assert.True(mesh.IsActiveNodeKey("nodekey1"));
        Assert.False(mesh.IsActiveNodeKey("nodekey2"));

        mesh.Upsert(Node(1) with { NodeKey = "rotated1" });
        Assert.False(mesh.IsActiveNodeKey("nodekey1"));
        Assert.True(mesh.IsActiveNodeKey("rotated1"));

        mesh.Remove(1, "deleted");
        Assert.False(mesh.IsActiveNodeKey("rotated1"));
    }
}
