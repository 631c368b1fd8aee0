using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

public abstract partial class AuthKeyTests(ITestDatabase database) : StoreTestBase(database)
{
    [Fact]
    public async Task The_plaintext_is_returned_once_and_only_a_hash_of_the_secret_is_stored()
    {
        await CreateUserAsync("alice");

        var created = await CreateKeyAsync("alice", reusable: true, ephemeral: true, expiresAt: Start.AddDays(1));

        var match = KeyPattern().Match(created.Plaintext);
        Assert.True(match.Success, created.Plaintext);
        var stored = Assert.Single((await Store.ListAuthKeysAsync()).Value!);
        Assert.Equal(match.Groups[1].Value, stored.Prefix);
        Assert.Equal(SHA256.HashData(Encoding.ASCII.GetBytes(match.Groups[2].Value)), stored.SecretHash);
        Assert.DoesNotContain(match.Groups[2].Value, stored.Prefix, StringComparison.Ordinal);
        Assert.Equal("alice", stored.User?.Name);
        Assert.True(stored.Reusable);
        Assert.True(stored.Ephemeral);
        Assert.Equal(Start.AddDays(1), stored.ExpiresAt);
        Assert.Equal(Start, stored.CreatedAt);
        Assert.Equal(0, stored.UseCount);
        Assert.False(stored.Revoked);
    }

    [Fact]
    public async Task Tagged_keys_have_no_user_and_normalised_tags()
    {
        var created = await CreateKeyAsync(null, tags: ["tag:Web", "tag:db", "tag:web"]);

        Assert.Null(created.Key.UserId);
        Assert.Equal(["tag:db", "tag:web"], created.Key.Tags);
    }

    [Fact]
    public async Task A_key_needs_exactly_one_kind_of_owner_that_exists()
    {
        await CreateUserAsync("alice");

        Assert.Equal(StoreError.Invalid, (await Store.CreateAuthKeyAsync(null, null, false, false, null)).Error);
        Assert.Equal(StoreError.Invalid, (await Store.CreateAuthKeyAsync("alice", ["tag:x"], false, false, null)).Error);
        Assert.Equal(StoreError.NotFound, (await Store.CreateAuthKeyAsync("bob", null, false, false, null)).Error);
        Assert.Equal(StoreError.Invalid, (await Store.CreateAuthKeyAsync(null, ["web"], false, false, null)).Error);
        Assert.Equal(StoreError.Invalid, (await Store.CreateAuthKeyAsync(null, ["tag:-x"], false, false, null)).Error);
        Assert.Equal(StoreError.Invalid, (await Store.CreateAuthKeyAsync("alice", null, false, false, Start.AddSeconds(-1))).Error);
        Assert.Empty((await Store.ListAuthKeysAsync()).Value!);
    }

    [Fact]
    public async Task Keys_are_listed_per_user()
    {
        await CreateUserAsync("alice");
        await CreateUserAsync("bob");
        var a = await CreateKeyAsync("alice");
        await CreateKeyAsync("bob");
        await CreateKeyAsync(null, tags: ["tag:ci"]);

        Assert.Equal(3, (await Store.ListAuthKeysAsync()).Value!.Count);
        Assert.Equal(a.Key.Prefix, Assert.Single((await Store.ListAuthKeysAsync("alice")).Value!).Prefix);
        Assert.Equal(StoreError.NotFound, (await Store.ListAuthKeysAsync("carol")).Error);
    }

    [Fact]
    public async Task Expiring_a_key_revokes_it()
    {
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice", reusable: true);

        var expired = await Store.ExpireAuthKeyAsync(key.Key.Prefix);

        Assert.True(expired.Succeeded, expired.ToString());
        Assert.True(Assert.Single((await Store.ListAuthKeysAsync()).Value!).Revoked);
        Assert.IsType<RegistrationResult.ExpiredKey>(await Store.RegisterNodeAsync(Request(key.Plaintext)));
        Assert.Equal(StoreError.NotFound, (await Store.ExpireAuthKeyAsync("aaaaaaaaaaaa")).Error);
    }

    [GeneratedRegex("^trellis-auth-([a-z2-7]{12})-([a-z2-7]{52})$")]
    private static partial Regex KeyPattern();
}

public sealed class AuthKeyTestsOnSqlite(SqliteTestDatabase db) : AuthKeyTests(db), IClassFixture<SqliteTestDatabase>;

public sealed class AuthKeyTestsOnPostgres(PostgresTestDatabase db) : AuthKeyTests(db), IClassFixture<PostgresTestDatabase>;
