using System.Net;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

public abstract class NodeTests(ITestDatabase database) : StoreTestBase(database)
{
    [Fact]
    public async Task Names_are_sanitised_and_deduplicated_with_the_lowest_free_suffix()
    {
        var a = await RegisterForAsync("alice", "Laptop");
        var b = await RegisterForAsync("alice", "laptop.example.com");
        var c = await RegisterForAsync("alice", "LAPTOP");
        Assert.Equal(["laptop", "laptop-1", "laptop-2"], new[] { a.Name, b.Name, c.Name });

        await Store.DeleteNodeAsync(b.Id);
        Assert.Equal("laptop-1", (await RegisterForAsync("alice", "laptop")).Name);
        Assert.Equal("node", (await RegisterForAsync("alice", "!!!")).Name);

        var longName = new string('x', 80);
        var first = await RegisterForAsync("alice", longName);
        var second = await RegisterForAsync("alice", longName);
        Assert.Equal(new string('x', 63), first.Name);
        Assert.Equal(new string('x', 61) + "-1", second.Name);
    }

    [Fact]
    public async Task Freed_addresses_are_reused_lowest_first()
    {
        var a = await RegisterForAsync("alice", "a");
        var b = await RegisterForAsync("alice", "b");
        await RegisterForAsync("alice", "c");
        Assert.Equal(IPAddress.Parse("100.64.0.2"), b.IPv4);

        await Store.DeleteNodeAsync(b.Id);
        await Store.DeleteNodeAsync(a.Id);

        Assert.Equal(IPAddress.Parse("100.64.0.1"), (await RegisterForAsync("alice", "d")).IPv4);
        Assert.Equal(IPAddress.Parse("100.64.0.2"), (await RegisterForAsync("alice", "e")).IPv4);
        Assert.Equal(IPAddress.Parse("100.64.0.4"), (await RegisterForAsync("alice", "f")).IPv4);
    }

    [Fact]
    public async Task Nodes_are_found_by_id_machine_key_and_node_key_and_listed_with_owners()
    {
        var mine = await RegisterForAsync("alice");
        var key = await CreateKeyAsync(null, tags: ["tag:web"]);
        var tagged = await RegisterAsync(Request(key.Plaintext, "web"));

        Assert.Equal(mine.Id, (await Store.GetNodeByIdAsync(mine.Id))?.Id);
        Assert.Equal(mine.Id, (await Store.GetNodeByMachineKeyAsync(mine.MachineKey))?.Id);
        Assert.Equal(tagged.Id, (await Store.GetNodeByNodeKeyAsync(tagged.NodeKey))?.Id);
        Assert.Null(await Store.GetNodeByMachineKeyAsync(NewKey()));

        var all = await AllNodesAsync();
        Assert.Equal([("alice", ""), ("", "tag:web")], all.Select(n => (n.User?.Name ?? "", string.Join(',', n.Tags))));
        Assert.Equal(mine.Id, Assert.Single((await Store.ListNodesAsync("alice")).Value!).Id);
        Assert.Equal(StoreError.NotFound, (await Store.ListNodesAsync("bob")).Error);
    }

    [Fact]
    public async Task Deleting_returns_the_node_as_it_was()
    {
        var node = await RegisterForAsync("alice");

        var deleted = await Store.DeleteNodeAsync(node.Id);

        Assert.Equal(node.Name, deleted.Value?.Name);
        Assert.Null(await Store.GetNodeByIdAsync(node.Id));
        Assert.Equal(StoreError.NotFound, (await Store.DeleteNodeAsync(node.Id)).Error);
    }

    [Fact]
    public async Task Expiring_a_node_ends_its_key_now()
    {
        var node = await RegisterForAsync("alice");
        Clock.Advance(TimeSpan.FromHours(2));

        var expired = await Store.ExpireNodeAsync(node.Id);

        Assert.Equal(Start.AddHours(2), expired.Value?.KeyExpiry);
        Assert.True((await Store.GetNodeByIdAsync(node.Id))!.IsExpired(Clock.GetUtcNow()));
    }

    [Fact]
    public async Task Renaming_validates_and_keeps_names_unique()
    {
        var a = await RegisterForAsync("alice", "a");
        await RegisterForAsync("alice", "b");

        Assert.Equal("web-1", (await Store.RenameNodeAsync(a.Id, "Web-1")).Value?.Name);
        Assert.Equal(StoreError.Conflict, (await Store.RenameNodeAsync(a.Id, "b")).Error);
        Assert.Equal(StoreError.Invalid, (await Store.RenameNodeAsync(a.Id, "no spaces")).Error);
        Assert.Equal(StoreError.Invalid, (await Store.RenameNodeAsync(a.Id, "-x")).Error);
        Assert.Equal(StoreError.Invalid, (await Store.RenameNodeAsync(a.Id, new string('x', 64))).Error);
        Assert.Equal(StoreError.NotFound, (await Store.RenameNodeAsync(a.Id + 1000, "zzz")).Error);
        Assert.True((await Store.RenameNodeAsync(a.Id, "web-1")).Succeeded);
        Assert.Equal("web-1", (await Store.GetNodeByIdAsync(a.Id))?.Name);
    }

    [Fact]
    public async Task Endpoints_home_relay_and_presence_are_recorded()
    {
        var node = await RegisterForAsync("alice");

        Assert.True((await Store.SetEndpointsAsync(node.Id, ["192.0.2.1:41641", "[2001:db8::1]:41641", "192.0.2.1:41641"])).Succeeded);
        Assert.True((await Store.SetHomeRelayAsync(node.Id, 3)).Succeeded);
        Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True((await Store.SetOnlineAsync(node.Id, true)).Succeeded);

        var stored = (await Store.GetNodeByIdAsync(node.Id))!;
        Assert.Equal(["192.0.2.1:41641", "[2001:db8::1]:41641"], stored.Endpoints);
        Assert.Equal(3, stored.HomeRelay);
        Assert.True(stored.Online);
        Assert.Equal(Start.AddSeconds(5), stored.LastSeen);

        Assert.Equal(1, await Store.MarkAllOfflineAsync());
        Assert.False((await Store.GetNodeByIdAsync(node.Id))!.Online);
    }

    [Fact]
    public async Task Bad_presence_reports_are_refused()
    {
        var node = await RegisterForAsync("alice");

        Assert.Equal(StoreError.Invalid, (await Store.SetEndpointsAsync(node.Id, ["192.0.2.1"])).Error);
        Assert.Equal(StoreError.Invalid, (await Store.SetEndpointsAsync(node.Id, ["not an endpoint:1"])).Error);
        Assert.Equal(StoreError.Invalid, (await Store.SetEndpointsAsync(node.Id, Enumerable.Range(1, EndpointLists.MaxReportedEndpoints + 1).Select(p => $"192.0.2.1:{p}").ToList())).Error);
        Assert.Equal(StoreError.Invalid, (await Store.SetHomeRelayAsync(node.Id, -1)).Error);
        Assert.Equal(StoreError.NotFound, (await Store.SetEndpointsAsync(node.Id + 1000, [])).Error);
        Assert.Equal(StoreError.NotFound, (await Store.SetOnlineAsync(node.Id + 1000, true)).Error);
        Assert.Empty((await Store.GetNodeByIdAsync(node.Id))!.Endpoints);
    }
}

public sealed class NodeTestsOnSqlite(SqliteTestDatabase db) : NodeTests(db), IClassFixture<SqliteTestDatabase>;

public sealed class NodeTestsOnPostgres(PostgresTestDatabase db) : NodeTests(db), IClassFixture<PostgresTestDatabase>;
