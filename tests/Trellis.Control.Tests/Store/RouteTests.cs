using System.Net;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

public abstract class RouteTests(ITestDatabase database) : StoreTestBase(database)
{
    private static readonly AutoApprovalRule[] Rules =
    [
        new(IPNetwork.Parse("10.0.0.0/8"), ["alice"]),
        new(IPNetwork.Parse("0.0.0.0/0"), ["tag:exit"]),
    ];

    protected override ControlStoreOptions StoreOptions => new() { AutoApprovers = Rules };

    [Fact]
    public async Task Advertised_routes_wait_for_approval_and_peers_see_only_approved_ones()
    {
        var node = await RegisterForAsync("bob", routes: ["192.168.1.0/24", "fd00:1::/64"]);
        Assert.Equal(["192.168.1.0/24", "fd00:1::/64"], node.AdvertisedRoutes);
        Assert.Empty(node.ApprovedRoutes);
        Assert.Empty(node.ServedRoutes());

        var approved = await Store.ApproveRoutesAsync(node.Id, ["192.168.1.0/24"]);

        Assert.True(approved.Succeeded, approved.ToString());
        Assert.Equal(["192.168.1.0/24"], approved.Value.ServedRoutes());
        Assert.Equal(["192.168.1.0/24"], (await Store.GetNodeByIdAsync(node.Id))!.ApprovedRoutes);
    }

    [Fact]
    public async Task Only_advertised_and_well_formed_prefixes_can_be_approved()
    {
        var node = await RegisterForAsync("bob", routes: ["192.168.1.0/24"]);

        var notAdvertised = await Store.ApproveRoutesAsync(node.Id, ["192.168.1.0/24", "172.16.0.0/12"]);
        Assert.Equal(StoreError.Invalid, notAdvertised.Error);
        Assert.Contains("172.16.0.0/12", notAdvertised.Message, StringComparison.Ordinal);

        var hostBits = await Store.ApproveRoutesAsync(node.Id, ["192.168.1.1/24"]);
        Assert.Equal(StoreError.Invalid, hostBits.Error);
        Assert.Contains("did you mean 192.168.1.0/24", hostBits.Message, StringComparison.Ordinal);

        Assert.Equal(StoreError.Invalid, (await Store.ApproveRoutesAsync(node.Id, ["banana"])).Error);
        Assert.Equal(StoreError.NotFound, (await Store.ApproveRoutesAsync(node.Id + 1000, ["192.168.1.0/24"])).Error);
        Assert.Empty((await Store.GetNodeByIdAsync(node.Id))!.ApprovedRoutes);
    }

    [Fact]
    public async Task Concurrent_approvals_on_one_node_all_stick()
    {
        var routes = Enumerable.Range(1, 10).Select(i => $"192.168.{i}.0/24").ToList();
        var node = await RegisterForAsync("bob", routes: routes);

        var results = await Task.WhenAll(routes.Select(r => Task.Run(() => Store.ApproveRoutesAsync(node.Id, [r]))));

        Assert.All(results, r => Assert.True(r.Succeeded, r.ToString()));
        Assert.Equal(routes.Order(StringComparer.Ordinal), (await Store.GetNodeByIdAsync(node.Id))!.ApprovedRoutes);
    }

    [Fact]
    public async Task Rejecting_withdraws_approval_and_approval_outlives_a_withdrawn_advertisement()
    {
        var node = await RegisterForAsync("bob", routes: ["192.168.1.0/24", "192.168.2.0/24"]);
        await Store.ApproveRoutesAsync(node.Id, ["192.168.1.0/24", "192.168.2.0/24"]);

        var rejected = await Store.RejectRoutesAsync(node.Id, ["192.168.2.0/24"]);
        Assert.Equal(["192.168.1.0/24"], rejected.Value?.ApprovedRoutes);

        var withdrawn = await Store.SetAdvertisedRoutesAsync(node.Id, []);
        Assert.Empty(withdrawn.Value!.ServedRoutes());
        var readvertised = await Store.SetAdvertisedRoutesAsync(node.Id, ["192.168.1.0/24"]);
        Assert.Equal(["192.168.1.0/24"], readvertised.Value!.ServedRoutes());
        Assert.Equal(StoreError.Invalid, (await Store.SetAdvertisedRoutesAsync(node.Id, ["10.0.0.0/33"])).Error);
    }

    [Fact]
    public async Task Rules_approve_routes_inside_their_prefix_for_their_owners_at_registration()
    {
        var alices = await RegisterForAsync("alice", routes: ["10.1.0.0/16", "192.168.0.0/24", "10.0.0.0/8"]);
        var bobs = await RegisterForAsync("bob", routes: ["10.2.0.0/16"]);
        var exitKey = await CreateKeyAsync(null, tags: ["tag:exit"]);
        var exit = await RegisterAsync(Request(exitKey.Plaintext, "exit", ["203.0.113.0/24", "2001:db8::/32"]));

        Assert.Equal(["10.0.0.0/8", "10.1.0.0/16"], alices.ApprovedRoutes);
        Assert.Empty(bobs.ApprovedRoutes);
        Assert.Equal(["203.0.113.0/24"], exit.ApprovedRoutes);
    }

    [Fact]
    public async Task Rules_apply_when_the_advertisement_changes()
    {
        var node = await RegisterForAsync("alice");
        Assert.Empty(node.ApprovedRoutes);

        var changed = await Store.SetAdvertisedRoutesAsync(node.Id, ["10.9.0.0/16", "172.16.0.0/12"]);

        Assert.Equal(["10.9.0.0/16"], changed.Value?.ApprovedRoutes);
    }

    [Fact]
    public async Task Rules_given_explicitly_approve_what_they_cover()
    {
        var node = await RegisterForAsync("bob", routes: ["172.16.5.0/24", "172.17.0.0/16"]);

        var result = await Store.AutoApproveRoutesAsync(node.Id, [new AutoApprovalRule(IPNetwork.Parse("172.16.0.0/16"), ["bob"])]);

        Assert.Equal(["172.16.5.0/24"], result.Value?.ApprovedRoutes);
    }

    [Fact]
    public async Task A_pending_node_gets_its_routes_judged_when_approved()
    {
        await CreateUserAsync("alice");
        var pending = Assert.IsType<RegistrationResult.Pending>(await Store.RegisterNodeAsync(Request(null, "r", ["10.3.0.0/16"]))).Node;
        Assert.Empty(pending.ApprovedRoutes);

        var approved = await Store.ApproveNodeAsync(pending.Id, user: "alice");

        Assert.Equal(["10.3.0.0/16"], approved.Value?.ApprovedRoutes);
    }
}

public sealed class RouteTestsOnSqlite(SqliteTestDatabase db) : RouteTests(db), IClassFixture<SqliteTestDatabase>;

public sealed class RouteTestsOnPostgres(PostgresTestDatabase db) : RouteTests(db), IClassFixture<PostgresTestDatabase>;
