namespace Trellis.Control.Tests.Store;

public abstract class EphemeralTests(ITestDatabase database) : StoreTestBase(database)
{
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Ephemeral_nodes_are_removed_once_offline_for_the_grace_period()
    {
        await CreateUserAsync("alice");
        var ephemeralKey = await CreateKeyAsync("alice", reusable: true, ephemeral: true);
        var gone = await RegisterAsync(Request(ephemeralKey.Plaintext, "ci-1"));
        var stillOnline = await RegisterAsync(Request(ephemeralKey.Plaintext, "ci-2"));
        var lasting = await RegisterForAsync("alice", "desktop");

        await Store.SetOnlineAsync(stillOnline.Id, true);
        await Store.SetOnlineAsync(gone.Id, false);
        await Store.SetOnlineAsync(lasting.Id, false);

        Clock.Advance(Grace - TimeSpan.FromSeconds(1));
        Assert.Empty(await Store.DeleteExpiredEphemeralAsync(Grace));

        Clock.Advance(TimeSpan.FromSeconds(1));
        var deleted = await Store.DeleteExpiredEphemeralAsync(Grace);

        Assert.Equal(gone.Id, Assert.Single(deleted).Id);
        Assert.Equal("alice", deleted[0].User?.Name);
        Assert.Equal([stillOnline.Id, lasting.Id], (await AllNodesAsync()).Select(n => n.Id));
    }

    [Fact]
    public async Task An_ephemeral_node_never_seen_counts_from_its_registration()
    {
        var key = await CreateKeyAsync(null, ephemeral: true, tags: ["tag:ci"]);
        await RegisterAsync(Request(key.Plaintext));

        Clock.Advance(Grace);

        Assert.Single(await Store.DeleteExpiredEphemeralAsync(Grace));
        Assert.Empty(await AllNodesAsync());
    }
}

public sealed class EphemeralTestsOnSqlite(SqliteTestDatabase db) : EphemeralTests(db), IClassFixture<SqliteTestDatabase>;

public sealed class EphemeralTestsOnPostgres(PostgresTestDatabase db) : EphemeralTests(db), IClassFixture<PostgresTestDatabase>;
