using System.Collections.Concurrent;
using System.Text;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Store;
using Trellis.Control.Tests.NodeProtocol;
using Trellis.Control.Tests.Store;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Replicas;

/// <summary>
/// Two replicas on one PostgreSQL database told different things at once (registrations with
/// reusable and single-use keys, renames, tags, route approvals, deletions, policies): once the
/// storm is over, each one's live mesh says what the database says.
/// </summary>
public sealed class ReplicaStormTests : IAsyncLifetime
{
    // Both policies let an admin apply both tags, so a tag change never fails for the policy of the moment.
    private const string FirstPolicy = """
        { "tagOwners": { "tag:web": [], "tag:db": [] }, "acls": [{ "action": "accept", "src": ["*"], "dst": ["*:*"] }] }
        """;

    private const string PolicySetOnA = """
        { "tagOwners": { "tag:web": [], "tag:db": [] }, "acls": [{ "action": "accept", "src": ["tag:web"], "dst": ["tag:db:*"] }] }
        """;

    private const string PolicySetOnB = """
        { "tagOwners": { "tag:web": [], "tag:db": [] }, "acls": [{ "action": "accept", "src": ["tag:db"], "dst": ["tag:web:443"] }] }
        """;

    private const int ReusableNodes = 16;
    private const int SingleUseKeys = 6;

    private string _database = null!;
    private Func<Task> _drop = null!;
    private readonly ConcurrentBag<IAsyncDisposable> _owned = [];
    private readonly List<ControlServerFixture> _replicas = [];

    public async Task InitializeAsync() => (_database, _drop) = await PostgresTestDatabase.CreateEmptyAsync();

    public async Task DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        for (var i = _replicas.Count - 1; i >= 0; i--)
        {
            await _replicas[i].DisposeAsync();
        }

        await _drop();
    }

    private async Task<ControlServerFixture> ReplicaAsync()
    {
        // A small pool: the storm would fill the usual 40 a replica, and the cluster's connections (300
        // in CI, 100 by default) are shared with other tests and benchmarks (more queue for one instead).
        var database = new Npgsql.NpgsqlConnectionStringBuilder(_database) { MaxPoolSize = 8 }.ConnectionString;
        var replica = await ControlServerFixture.StartAsync(o => o with { Database = database });
        _replicas.Add(replica);
        return replica;
    }

    private SimulatedNode NodeOn(ControlServerFixture replica, string name)
    {
        var node = new SimulatedNode(replica.Url, name);
        _owned.Add(node);
        return node;
    }

    /// <summary>As the admin API approves routes: the store, then the service's refresh of the node.</summary>
    private static async Task ApproveRoutesAsync(ControlServerFixture replica, long id, string prefix)
    {
        var approved = await replica.Store.ApproveRoutesAsync(id, [prefix]);
        if (approved.Succeeded)
        {
            replica.Host.Service.Refresh(approved.Value!);
        }
    }

    /// <summary>
    /// A node registered with the reusable key on one replica, then changed on both at once: two
    /// renames (the last committed wins everywhere), a tag change, its route approved; every fourth
    /// is then deleted on one replica while the other renames it; every third holds a map stream.
    /// </summary>
    private async Task ReusableLifeAsync(int i, ControlServerFixture home, ControlServerFixture other, string key)
    {
        var route = $"10.{i}.0.0/24";
        var node = NodeOn(home, $"n{i}");
        await node.ConnectAsync();
        var reply = await node.RegisterAsync(key, route);
        Assert.Equal(RegisterStatus.Active, reply.Status);
        var id = reply.Self!.Id;
        if (i % 3 == 0)
        {
            await node.StartMapAsync($"198.51.100.{i + 1}:41641");
        }

        await Task.WhenAll(
            home.Host.Service.RenameNodeAsync(id, $"n{i}-home"),
            other.Host.Service.RenameNodeAsync(id, $"n{i}-other"),
            other.Host.Service.TagNodeAsync(id, i % 2 == 0 ? ["tag:web"] : ["tag:db", "tag:web"]),
            ApproveRoutesAsync(i % 2 == 0 ? home : other, id, route));
        if (i % 4 == 3)
        {
            await Task.WhenAll(home.Host.Service.DeleteNodeAsync(id), other.Host.Service.RenameNodeAsync(id, $"n{i}-late"));
        }
    }

    /// <summary>A single-use key raced by two nodes, one on each replica: one node is registered, the other refused.</summary>
    private async Task SingleUseRaceAsync(int k, ControlServerFixture a, ControlServerFixture b, string key)
    {
        var onA = NodeOn(a, $"su{k}-a");
        var onB = NodeOn(b, $"su{k}-b");
        await Task.WhenAll(onA.ConnectAsync(), onB.ConnectAsync());
        var replies = await Task.WhenAll(onA.RegisterAsync(key), onB.RegisterAsync(key));
        Assert.Single(replies, r => r.Status == RegisterStatus.Active);
    }

    /// <summary>One line per node as a peer sees it, with what the issue names: name, keys, addresses, routes, tags, owner, presence.</summary>
    private static string Describe(PeerInfo peer) =>
        $"{peer.Id} {peer.Name} node {peer.NodeKey} disco {peer.DiscoKey} addresses [{string.Join(' ', peer.Addresses)}] "
        + $"allowed [{string.Join(' ', peer.AllowedIps)}] tags [{string.Join(' ', peer.Tags)}] user {peer.User} online {peer.Online} "
        + $"endpoints [{string.Join(' ', peer.Endpoints)}] expiry {peer.KeyExpiry:O}";

    /// <summary>Where <paramref name="replica"/>'s live mesh and policy differ from the database; empty when they agree.</summary>
    private static async Task<string> DivergenceAsync(ControlServerFixture replica, string name)
    {
        var stored = (await replica.Store.ListNodesAsync()).Value!
            .Where(n => n.Status == NodeStatus.Active && n.HasAddresses)
            .ToDictionary(n => n.Id, n => Describe(ControlService.ToPeerInfo(n)));
        var mesh = replica.Host.Service.Mesh;
        var live = new Dictionary<long, string>();
        foreach (var id in mesh.NodeIds)
        {
            if (mesh.Get(id) is { } peer)
            {
                live[id] = Describe(peer);
            }
        }

        var differences = new StringBuilder();
        foreach (var id in stored.Keys.Union(live.Keys).Order())
        {
            var want = stored.GetValueOrDefault(id, "(not in the database)");
            var have = live.GetValueOrDefault(id, "(not in the mesh)");
            if (want != have)
            {
                differences.AppendLine($"{name}: database {want}\n{name}: mesh     {have}");
            }
        }

        var policy = await replica.Store.GetPolicyAsync();
        var inForce = replica.Host.Policy.Current;
        if (policy?.Text != inForce.Text || !ReferenceEquals(inForce.Policy, mesh.Policy))
        {
            differences.AppendLine($"{name}: database policy {policy?.Text}\n{name}: in force {inForce.Text} (the mesh's own: {ReferenceEquals(inForce.Policy, mesh.Policy)})");
        }

        return differences.ToString();
    }

    [Fact]
    public async Task Two_replicas_told_concurrent_registrations_and_admin_changes_end_with_live_meshes_that_equal_the_database()
    {
        var a = await ReplicaAsync();
        var b = await ReplicaAsync();
        var reusable = await a.AuthKeyAsync();
        var singleUse = new string[SingleUseKeys];
        for (var k = 0; k < SingleUseKeys; k++)
        {
            singleUse[k] = await (k % 2 == 0 ? a : b).AuthKeyAsync(reusable: false);
        }

        // The tags' owners in force on both before the storm, so an admin may tag on either.
        await a.Host.Policy.SetAsync(FirstPolicy, "the test", CancellationToken.None);
        await SimulatedNode.WaitAsync(
            () => b.Host.Policy.Current is { Text: FirstPolicy } inForce && ReferenceEquals(inForce.Policy, b.Host.Service.Mesh.Policy), "the first policy in force on B");

        var storm = new List<Task>();
        for (var i = 0; i < ReusableNodes; i++)
        {
            storm.Add(i % 2 == 0 ? ReusableLifeAsync(i, a, b, reusable) : ReusableLifeAsync(i, b, a, reusable));
        }

        for (var k = 0; k < SingleUseKeys; k++)
        {
            storm.Add(SingleUseRaceAsync(k, a, b, singleUse[k]));
        }

        storm.Add(a.Host.Policy.SetAsync(PolicySetOnA, "a storm on A", CancellationToken.None));
        storm.Add(b.Host.Policy.SetAsync(PolicySetOnB, "a storm on B", CancellationToken.None));
        await Task.WhenAll(storm);

        // Each replica has applied the other's changes once its mesh says what the database says
        // (polled like SimulatedNode.WaitAsync, keeping the last difference to show).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string divergence;
        while ((divergence = await DivergenceAsync(a, "A") + await DivergenceAsync(b, "B")).Length > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the live meshes still differ from the database:\n{divergence}");
            await Task.Delay(20);
        }

        var nodes = (await a.Store.ListNodesAsync()).Value!;
        Assert.Equal(ReusableNodes - (ReusableNodes / 4) + SingleUseKeys, nodes.Count);
        Assert.Equal(nodes.Count, nodes.Select(n => n.NodeKey).Distinct().Count());
        Assert.Equal(nodes.Count, nodes.Select(n => n.IPv4).Distinct().Count());
        for (var k = 0; k < SingleUseKeys; k++)
        {
            Assert.Single(nodes, n => n.Name.StartsWith($"su{k}-", StringComparison.Ordinal));
        }

        Assert.Equal(SingleUseKeys, nodes.Where(n => n.Name.StartsWith("su", StringComparison.Ordinal)).Select(n => n.AuthKeyId).Distinct().Count());
        Assert.Contains((await a.Store.GetPolicyAsync())!.Text, new[] { PolicySetOnA, PolicySetOnB });
    }
}
