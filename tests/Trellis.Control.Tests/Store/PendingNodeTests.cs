using System.Net;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

/// <summary>Nodes registered without an auth key: no addresses until approved, a cap on how many wait, an expiry.</summary>
public abstract class PendingNodeTests(ITestDatabase database) : StoreTestBase(database)
{
    private const int Cap = 3;

    protected override ControlStoreOptions StoreOptions => new() { MaxPendingNodes = Cap };

    [Fact]
    public async Task A_pending_node_has_no_address_until_an_admin_approves_it()
    {
        var active = await RegisterForAsync("alice", "desktop");
        var pending = Assert.IsType<RegistrationResult.Pending>(await Store.RegisterNodeAsync(Request(null, "stranger"))).Node;

        Assert.Null(pending.IPv4);
        Assert.Null(pending.IPv6);
        Assert.Null((await Store.GetNodeByIdAsync(pending.Id))!.IPv4);

        var approved = await Store.ApproveNodeAsync(pending.Id, "alice");

        Assert.True(approved.Succeeded, approved.ToString());
        Assert.Equal(IPAddress.Parse("100.64.0.2"), approved.Value.IPv4);
        Assert.True((await Store.GetUlaPrefixAsync()).Contains(approved.Value.IPv6!));
        Assert.NotEqual(active.IPv4, approved.Value.IPv4);
    }

    [Fact]
    public async Task Waiting_nodes_take_no_addresses_from_nodes_let_in_later()
    {
        for (var i = 0; i < Cap; i++)
        {
            await Store.RegisterNodeAsync(Request(null, $"stranger{i}"));
        }

        var first = await RegisterForAsync("alice", "desktop");

        Assert.Equal(IPAddress.Parse("100.64.0.1"), first.IPv4);
    }

    [Fact]
    public async Task Registrations_without_a_key_past_the_cap_are_refused_with_what_to_do()
    {
        var waiting = new List<Node>();
        for (var i = 0; i < Cap; i++)
        {
            waiting.Add(Assert.IsType<RegistrationResult.Pending>(await Store.RegisterNodeAsync(Request(null, $"stranger{i}"))).Node);
        }

        var refused = Assert.IsType<RegistrationResult.Rejected>(await Store.RegisterNodeAsync(Request(null, "one-too-many")));

        Assert.Contains($"{Cap} nodes already wait for approval", refused.Reason, StringComparison.Ordinal);
        Assert.Contains("auth key", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(Cap, (await AllNodesAsync()).Count);

        // A waiting machine may ask again, and a node with an auth key is not held up by strangers.
        Assert.IsType<RegistrationResult.Pending>(await Store.RegisterNodeAsync(Request(null) with { MachineKey = waiting[0].MachineKey }));
        await RegisterForAsync("alice", "desktop");

        // Approving one makes room for one more.
        Assert.True((await Store.ApproveNodeAsync(waiting[1].Id, "alice")).Succeeded);
        Assert.IsType<RegistrationResult.Pending>(await Store.RegisterNodeAsync(Request(null, "now-there-is-room")));
    }

    [Fact]
    public async Task Nodes_nobody_approved_are_deleted_once_they_waited_too_long()
    {
        var lifetime = TimeSpan.FromHours(24);
        var stale = Assert.IsType<RegistrationResult.Pending>(await Store.RegisterNodeAsync(Request(null, "stale"))).Node;
        var once = await RegisterForAsync("alice", "once-active");
        await Store.ExpireNodeAsync(once.Id);
        Assert.IsType<RegistrationResult.Pending>(await Store.RegisterNodeAsync(Request(null) with { MachineKey = once.MachineKey }));

        Clock.Advance(TimeSpan.FromHours(12));
        var fresh = Assert.IsType<RegistrationResult.Pending>(await Store.RegisterNodeAsync(Request(null, "fresh"))).Node;
        Assert.Empty(await Store.DeleteStalePendingAsync(lifetime));

        Clock.Advance(TimeSpan.FromHours(12));
        var deleted = await Store.DeleteStalePendingAsync(lifetime);

        Assert.Equal(stale.Id, Assert.Single(deleted).Id);
        Assert.Equal([once.Id, fresh.Id], (await AllNodesAsync()).Select(n => n.Id));
    }
}

public sealed class PendingNodeTestsOnSqlite(SqliteTestDatabase db) : PendingNodeTests(db), IClassFixture<SqliteTestDatabase>;

public sealed class PendingNodeTestsOnPostgres(PostgresTestDatabase db) : PendingNodeTests(db), IClassFixture<PostgresTestDatabase>;
