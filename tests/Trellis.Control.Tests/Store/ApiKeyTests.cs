using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

public abstract class ApiKeyTests(ITestDatabase database) : StoreTestBase(database)
{
    [Fact]
    public async Task A_created_key_validates_and_records_its_use()
    {
        var created = (await Store.CreateApiKeyAsync()).Value!;
        Assert.StartsWith("trellis-api-" + created.Key.Prefix + "-", created.Plaintext, StringComparison.Ordinal);

        Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.True(await Store.ValidateApiKeyAsync(created.Plaintext));

        var listed = Assert.Single(await Store.ListApiKeysAsync());
        Assert.Equal(Start.AddMinutes(3), listed.LastUsedAt);
        Assert.Equal(Start, listed.CreatedAt);
    }

    [Fact]
    public async Task Wrong_malformed_or_foreign_keys_do_not_validate()
    {
        var created = (await Store.CreateApiKeyAsync()).Value!;
        await CreateUserAsync("alice");
        var authKey = await CreateKeyAsync("alice");

        Assert.False(await Store.ValidateApiKeyAsync(created.Plaintext[..^1] + (created.Plaintext[^1] == 'a' ? 'b' : 'a')));
        Assert.False(await Store.ValidateApiKeyAsync(created.Plaintext + "a"));
        Assert.False(await Store.ValidateApiKeyAsync(""));
        Assert.False(await Store.ValidateApiKeyAsync(null));
        Assert.False(await Store.ValidateApiKeyAsync(authKey.Plaintext));
        Assert.Null(Assert.Single(await Store.ListApiKeysAsync()).LastUsedAt);
    }

    [Fact]
    public async Task Keys_stop_validating_at_their_expiry_or_when_expired()
    {
        var timed = (await Store.CreateApiKeyAsync(Start.AddHours(1))).Value!;
        var open = (await Store.CreateApiKeyAsync()).Value!;
        Assert.True(await Store.ValidateApiKeyAsync(timed.Plaintext));

        Clock.Advance(TimeSpan.FromHours(1));
        Assert.False(await Store.ValidateApiKeyAsync(timed.Plaintext));
        Assert.True(await Store.ValidateApiKeyAsync(open.Plaintext));

        var expired = await Store.ExpireApiKeyAsync(open.Key.Prefix);
        Assert.Equal(Start.AddHours(1), expired.Value?.ExpiresAt);
        Assert.False(await Store.ValidateApiKeyAsync(open.Plaintext));
        Assert.Equal(StoreError.NotFound, (await Store.ExpireApiKeyAsync("zzzzzzzzzzzz")).Error);
        Assert.Equal(StoreError.Invalid, (await Store.CreateApiKeyAsync(Start)).Error);
        Assert.Equal(2, (await Store.ListApiKeysAsync()).Count);
    }
}

public sealed class ApiKeyTestsOnSqlite(SqliteTestDatabase db) : ApiKeyTests(db), IClassFixture<SqliteTestDatabase>;

public sealed class ApiKeyTestsOnPostgres(PostgresTestDatabase db) : ApiKeyTests(db), IClassFixture<PostgresTestDatabase>;
