using System.Net;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

/// <summary>No subnet route may lie inside or around the prefixes node addresses come from.</summary>
public abstract class OverlayRouteTests(ITestDatabase database) : StoreTestBase(database)
{
    // Rules that would approve anything, so only the overlay check stands in the way.
    protected override ControlStoreOptions StoreOptions => new()
    {
        AutoApprovers = [new(IPNetwork.Parse("0.0.0.0/0"), ["alice"]), new(IPNetwork.Parse("::/0"), ["alice"])],
    };

    [Theory]
    [InlineData("100.64.3.0/24", "lies inside 100.64.0.0/10")]
    [InlineData("0.0.0.0/1", "contains 100.64.0.0/10")]
    public async Task An_advertisement_overlapping_the_IPv4_overlay_is_refused_with_the_reason(string route, string reason)
    {
        var node = await RegisterForAsync("alice", routes: ["192.168.1.0/24"]);

        var refused = await Store.SetAdvertisedRoutesAsync(node.Id, ["192.168.1.0/24", route]);

        Assert.Equal(StoreError.Invalid, refused.Error);
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
        var stored = (await Store.GetNodeByIdAsync(node.Id))!;
        Assert.Equal(["192.168.1.0/24"], stored.AdvertisedRoutes);
        Assert.Equal(["192.168.1.0/24"], stored.ApprovedRoutes);
    }

    [Fact]
    public async Task The_default_routes_of_an_exit_node_are_not_subnet_routes_and_may_be_advertised_and_approved()
    {
        var node = await RegisterForAsync("alice");

        var offered = await Store.SetAdvertisedRoutesAsync(node.Id, ["0.0.0.0/0", "::/0"]);

        Assert.True(offered.Succeeded, offered.ToString());
        Assert.Equal(["0.0.0.0/0", "::/0"], (await Store.GetNodeByIdAsync(node.Id))!.ServedRoutes());
    }

    [Fact]
    public async Task An_advertisement_overlapping_the_IPv6_overlay_is_refused_inside_and_around_it()
    {
        var ula = await Store.GetUlaPrefixAsync();
        var node = await RegisterForAsync("alice");
        var inside = new IPNetwork(ula.BaseAddress, 64).ToString();

        var insideRefused = await Store.SetAdvertisedRoutesAsync(node.Id, [inside]);
        var aroundRefused = await Store.SetAdvertisedRoutesAsync(node.Id, ["fc00::/7"]);

        Assert.Contains($"lies inside {ula}", insideRefused.Message, StringComparison.Ordinal);
        Assert.Contains($"contains {ula}", aroundRefused.Message, StringComparison.Ordinal);
        Assert.Empty((await Store.GetNodeByIdAsync(node.Id))!.AdvertisedRoutes);
    }

    [Fact]
    public async Task A_registration_advertising_an_overlapping_route_is_refused()
    {
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice", reusable: true);

        var result = await Store.RegisterNodeAsync(Request(key.Plaintext, "router", ["10.0.0.0/8", "100.64.0.0/16"]));

        var rejected = Assert.IsType<RegistrationResult.Rejected>(result);
        Assert.Contains("100.64.0.0/16", rejected.Reason, StringComparison.Ordinal);
        Assert.Empty(await AllNodesAsync());
    }

    [Fact]
    public async Task An_overlapping_advertisement_stored_by_an_older_server_is_neither_approved_nor_auto_approved()
    {
        var node = await RegisterForAsync("alice", routes: ["192.168.1.0/24"]);
        await using (var db = Database.Factory.CreateDbContext())
        {
            var row = (await db.Nodes.FindAsync(node.Id))!;
            row.AdvertisedRoutes = ["100.64.0.0/24", "192.168.1.0/24"];
            await db.SaveChangesAsync();
        }

        var approval = await Store.ApproveRoutesAsync(node.Id, ["100.64.0.0/24"]);
        var rules = await Store.AutoApproveRoutesAsync(node.Id, StoreOptions.AutoApprovers);

        Assert.Equal(StoreError.Invalid, approval.Error);
        Assert.Contains("lies inside 100.64.0.0/10", approval.Message, StringComparison.Ordinal);
        Assert.Equal(["192.168.1.0/24"], rules.Value?.ApprovedRoutes);
        Assert.DoesNotContain("100.64.0.0/24", (await Store.GetNodeByIdAsync(node.Id))!.ServedRoutes());
    }
}

public sealed class OverlayRouteTestsOnSqlite(SqliteTestDatabase db) : OverlayRouteTests(db), IClassFixture<SqliteTestDatabase>;

public sealed class OverlayRouteTestsOnPostgres(PostgresTestDatabase db) : OverlayRouteTests(db), IClassFixture<PostgresTestDatabase>;
