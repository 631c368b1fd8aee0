using Trellis.Control.Replicas;
using Trellis.Control.Tests.NodeProtocol;
using Trellis.Control.Tests.Store;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Replicas;

/// <summary>
/// Two `trellis server` replicas on one PostgreSQL database, each with its own live mesh: what one
/// is told reaches the nodes connected to the other through the change feed.
/// </summary>
public sealed class ReplicaTests : IAsyncLifetime
{
    private string _database = null!;
    private Func<Task> _drop = null!;
    private readonly List<IAsyncDisposable> _owned = [];

    public async Task InitializeAsync() => (_database, _drop) = await PostgresTestDatabase.CreateEmptyAsync();

    public async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await _drop();
    }

    private async Task<ControlServerFixture> ReplicaAsync()
    {
        var replica = await ControlServerFixture.StartAsync(o => o with { Database = _database });
        _owned.Add(replica);
        return replica;
    }

    private async Task<SimulatedNode> JoinAsync(ControlServerFixture replica, string name, string authKey, string endpoint)
    {
        var node = new SimulatedNode(replica.Url, name);
        _owned.Add(node);
        await node.ConnectAsync();
        Assert.Equal(RegisterStatus.Active, (await node.RegisterAsync(authKey)).Status);
        await node.StartMapAsync(endpoint);
        await SimulatedNode.WaitAsync(() => node.FullMaps == 1, $"{name}'s map");
        return node;
    }

    [Fact]
    public async Task Changes_made_on_one_replica_reach_nodes_connected_to_the_other()
    {
        var a = await ReplicaAsync();
        var key = await a.AuthKeyAsync();
        var onA = await JoinAsync(a, "on-a", key, "198.51.100.1:41641");

        // B starts while A has a node online: it must not mark that node offline.
        var b = await ReplicaAsync();
        var onB = await JoinAsync(b, "on-b", key, "198.51.100.2:41641");
        var idA = onA.Self!.Id;
        var idB = onB.Self!.Id;

        await SimulatedNode.WaitAsync(() => onB.Peers.TryGetValue(idA, out var p) && p.Online, "the node on A, online, in the map of the node on B");
        await SimulatedNode.WaitAsync(() => onA.Peers.TryGetValue(idB, out var p) && p.Online, "the node on B, online, in the map of the node on A");

        Assert.True((await a.Host.Service.RenameNodeAsync(idA, "renamed-on-a")).Succeeded);
        await SimulatedNode.WaitAsync(() => onB.Peers[idA].Name == "renamed-on-a", "the rename made on A at the node on B");

        await onA.SendAsync(new EndpointUpdate { Endpoints = ["203.0.113.7:1234"], HomeRelay = 901 });
        await SimulatedNode.WaitAsync(
            () => onB.Peers[idA].Endpoints.SequenceEqual(["203.0.113.7:1234"]) && onB.Peers[idA].HomeRelay == 901, "the endpoints reported to A at the node on B");

        await onA.DisconnectAsync();
        await SimulatedNode.WaitAsync(() => !onB.Peers[idA].Online, "the node on A offline at the node on B");

        Assert.True((await b.Host.Service.DeleteNodeAsync(idA)).Succeeded);
        await SimulatedNode.WaitAsync(() => !onB.Peers.ContainsKey(idA) && a.Host.Service.Mesh.Get(idA) is null, "the node deleted on B gone from A's mesh");
    }

    [Fact]
    public async Task A_policy_set_on_one_replica_is_in_force_on_the_other()
    {
        var a = await ReplicaAsync();
        var b = await ReplicaAsync();
        var key = await a.AuthKeyAsync();
        var onA = await JoinAsync(a, "on-a", key, "198.51.100.1:41641");
        var onB = await JoinAsync(b, "on-b", key, "198.51.100.2:41641");
        await SimulatedNode.WaitAsync(() => onB.Peers.ContainsKey(onA.Self!.Id), "the node on A at the node on B");

        const string grantsNothing = """{ "acls": [] }""";
        await a.Host.Policy.SetAsync(grantsNothing, "a test", CancellationToken.None);
        await SimulatedNode.WaitAsync(() => onB.Peers.Count == 0, "the node on B to lose its peer under the policy set on A");
        Assert.Equal(grantsNothing, b.Host.Policy.Current.Text);

        Assert.True(await b.Host.Policy.RemoveAsync("a test", CancellationToken.None));
        await SimulatedNode.WaitAsync(() => onA.Peers.ContainsKey(onB.Self!.Id), "the node on A to see its peer again after B removed the policy");
        Assert.Null(a.Host.Policy.Current.Text);
    }

    [Fact]
    public async Task A_single_use_key_raced_on_two_replicas_registers_exactly_one_node_and_both_meshes_agree()
    {
        var a = await ReplicaAsync();
        var b = await ReplicaAsync();
        for (var round = 0; round < 5; round++)
        {
            var key = await a.AuthKeyAsync(reusable: false);
            var first = new SimulatedNode(a.Url, $"first{round}");
            var second = new SimulatedNode(b.Url, $"second{round}");
            _owned.Add(first);
            _owned.Add(second);
            await Task.WhenAll(first.ConnectAsync(), second.ConnectAsync());
            var replies = await Task.WhenAll(first.RegisterAsync(key), second.RegisterAsync(key));
            Assert.Single(replies, r => r.Status == RegisterStatus.Active);
        }

        var stored = (await a.Store.ListNodesAsync()).Value!.Select(n => n.Id).Order().ToList();
        Assert.Equal(5, stored.Count);
        await SimulatedNode.WaitAsync(
            () => a.Host.Service.Mesh.NodeIds.Order().SequenceEqual(stored) && b.Host.Service.Mesh.NodeIds.Order().SequenceEqual(stored),
            "both replicas' meshes to hold exactly the stored nodes");
    }

    [Fact]
    public async Task One_replica_at_a_time_holds_the_maintenance_lease_and_another_takes_it_when_the_holder_goes()
    {
        await ReplicaAsync(); // migrates the database
        var session = new Npgsql.NpgsqlConnectionStringBuilder(_database) { Pooling = false }.ConnectionString;
        await using var first = new MaintenanceLease(session);
        await using var second = new MaintenanceLease(session);
        Assert.True(await first.HoldAsync(CancellationToken.None));
        Assert.False(await second.HoldAsync(CancellationToken.None));
        Assert.True(await first.HoldAsync(CancellationToken.None));

        await first.DisposeAsync();
        await SimulatedNode.WaitAsync(() => second.HoldAsync(CancellationToken.None), "the second to take the lease");
    }
}
