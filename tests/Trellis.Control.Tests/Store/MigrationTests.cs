using System.Net;
using Microsoft.EntityFrameworkCore;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

public abstract class MigrationTests(ITestDatabase database) : StoreTestBase(database)
{
    [Fact]
    public async Task Migrations_apply_to_an_empty_database_and_match_the_model()
    {
        await using var scratch = await Database.CreateScratchAsync();
        await using (var db = scratch.Factory.CreateDbContext())
        {
            Assert.NotEmpty(db.Database.GetMigrations());
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetPendingMigrationsAsync());
        }

        await scratch.Factory.MigrateAsync();
        await scratch.Factory.MigrateAsync();

        await using (var db = scratch.Factory.CreateDbContext())
        {
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
            Assert.False(db.Database.HasPendingModelChanges(), "the model changed without a migration for " + Database.Provider);
            Assert.Empty(await db.Nodes.ToListAsync());
        }

        var store = new ControlStore(scratch.Factory, Clock);
        await store.InitializeAsync();
        Assert.True((await store.CreateUserAsync("alice")).Succeeded);
    }

    [Fact]
    public async Task The_ula_prefix_is_generated_once_and_kept()
    {
        var prefix = await Store.GetUlaPrefixAsync();

        Assert.Equal(48, prefix.PrefixLength);
        Assert.Equal(0xfd, prefix.BaseAddress.GetAddressBytes()[0]);
        Assert.Equal(prefix.ToString(), await Store.GetSettingAsync(Setting.IPv6UlaPrefix));

        var restarted = new ControlStore(Database.Factory, Clock);
        Assert.Equal(prefix, await restarted.GetUlaPrefixAsync());
    }

    [Fact]
    public async Task Stores_starting_together_agree_on_one_ula_prefix()
    {
        await Database.ResetAsync();

        var prefixes = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => new ControlStore(Database.Factory, Clock).GetUlaPrefixAsync())));

        Assert.Single(prefixes.Distinct());
        Assert.Equal(prefixes[0], IPNetwork.Parse((await Store.GetSettingAsync(Setting.IPv6UlaPrefix))!));
    }
}

public sealed class MigrationTestsOnSqlite(SqliteTestDatabase db) : MigrationTests(db), IClassFixture<SqliteTestDatabase>;

public sealed class MigrationTestsOnPostgres(PostgresTestDatabase db) : MigrationTests(db), IClassFixture<PostgresTestDatabase>;
