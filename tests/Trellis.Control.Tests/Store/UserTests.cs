using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

public abstract class UserTests(ITestDatabase database) : StoreTestBase(database)
{
    [Fact]
    public async Task Users_are_created_listed_and_deleted()
    {
        var alice = await CreateUserAsync("alice");
        await CreateUserAsync("Bob");

        Assert.Equal(Start, alice.CreatedAt);
        Assert.Equal(["alice", "bob"], (await Store.ListUsersAsync()).Select(u => u.Name));

        var deleted = await Store.DeleteUserAsync("alice");
        Assert.True(deleted.Succeeded, deleted.ToString());
        Assert.Equal(["bob"], (await Store.ListUsersAsync()).Select(u => u.Name));
        Assert.Null(await Store.GetUserAsync("alice"));
    }

    [Fact]
    public async Task A_duplicate_name_is_a_conflict_whatever_its_case()
    {
        await CreateUserAsync("alice");

        var again = await Store.CreateUserAsync("ALICE");

        Assert.Equal(StoreError.Conflict, again.Error);
        Assert.Single(await Store.ListUsersAsync());
    }

    [Theory]
    [InlineData("")]
    [InlineData("-alice")]
    [InlineData("alice-")]
    [InlineData("al ice")]
    [InlineData("al_ice")]
    [InlineData("alice@example.com")]
    [InlineData("a123456789012345678901234567890123456789012345678901234567890123")]
    public async Task Invalid_names_are_rejected_with_a_reason(string name)
    {
        var result = await Store.CreateUserAsync(name);

        Assert.Equal(StoreError.Invalid, result.Error);
        Assert.Contains("invalid user name", result.Message, StringComparison.Ordinal);
        Assert.Empty(await Store.ListUsersAsync());
    }

    [Fact]
    public async Task A_user_who_owns_nodes_cannot_be_deleted_until_the_nodes_are_gone()
    {
        var node = await RegisterForAsync("alice");

        var refused = await Store.DeleteUserAsync("alice");
        Assert.Equal(StoreError.InUse, refused.Error);
        Assert.NotNull(await Store.GetUserAsync("alice"));

        Assert.True((await Store.DeleteNodeAsync(node.Id)).Succeeded);
        Assert.True((await Store.DeleteUserAsync("alice")).Succeeded);
    }

    [Fact]
    public async Task Deleting_a_user_deletes_their_auth_keys()
    {
        await CreateUserAsync("alice");
        await CreateKeyAsync("alice");
        await CreateKeyAsync(null, tags: ["tag:server"]);

        Assert.True((await Store.DeleteUserAsync("alice")).Succeeded);

        var keys = await Store.ListAuthKeysAsync();
        Assert.Equal(["tag:server"], Assert.Single(keys.Value!).Tags);
    }

    [Fact]
    public async Task Deleting_an_unknown_user_is_not_found()
    {
        Assert.Equal(StoreError.NotFound, (await Store.DeleteUserAsync("nobody")).Error);
    }
}

public sealed class UserTestsOnSqlite(SqliteTestDatabase db) : UserTests(db), IClassFixture<SqliteTestDatabase>;

public sealed class UserTestsOnPostgres(PostgresTestDatabase db) : UserTests(db), IClassFixture<PostgresTestDatabase>;
