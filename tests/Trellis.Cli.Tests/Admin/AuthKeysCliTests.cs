using Trellis.Control.Store;

namespace Trellis.Cli.Tests.Admin;

public sealed class AuthKeysCliTests : AdminCliTestBase
{
    [Fact]
    public async Task A_created_key_is_printed_alone_and_registers_a_node()
    {
        await OkAsync("users", "create", "alice");
        var key = (await OkAsync("authkeys", "create", "--user", "alice", "--reusable", "--expiration", "2h")).TrimEnd('\n');
        Assert.StartsWith("trellis-auth-", key);
        Assert.DoesNotContain('\n', key);

        var registered = await Server.Store.RegisterNodeAsync(new(
            key, new(new byte[32].Select((_, i) => (byte)(i + 1)).ToArray()), new(new byte[32].Select((_, i) => (byte)(i + 2)).ToArray()),
            new(new byte[32].Select((_, i) => (byte)(i + 3)).ToArray()), "laptop"));
        Assert.IsType<RegistrationResult.Registered>(registered);

        var rows = Rows(await OkAsync("authkeys", "list"));
        Assert.Equal(["PREFIX", "OWNER", "REUSABLE", "EPHEMERAL", "USES", "EXPIRES", "STATE"], rows[0]);
        var row = Assert.Single(rows.Skip(1));
        Assert.Equal(key.Split('-')[2], row[0]);
        Assert.Equal(["alice", "yes", "no", "1"], row[1..5]);
        Assert.Equal("usable", row[6]);
    }

    [Fact]
    public async Task Tagged_keys_and_json_output()
    {
        var created = await JsonAsync(Json.CreatedAuthKeyDto, "authkeys", "create", "--tags", "server,tag:DB", "--ephemeral");
        Assert.Equal(["tag:db", "tag:server"], created.AuthKey.Tags);
        Assert.True(created.AuthKey.Ephemeral);
        Assert.StartsWith("trellis-auth-", created.Key);

        var listed = await JsonAsync(Json.IReadOnlyListAuthKeyDto, "authkeys", "list");
        Assert.Equal(created.AuthKey.Prefix, Assert.Single(listed).Prefix);
        Assert.DoesNotContain(created.Key[^20..], await OkAsync("authkeys", "list", "--json"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_are_listed_per_user_and_expired_by_prefix_or_whole_key()
    {
        await OkAsync("users", "create", "alice");
        await OkAsync("users", "create", "bob");
        var alices = (await OkAsync("authkeys", "create", "--user", "alice")).TrimEnd();
        var bobs = (await OkAsync("authkeys", "create", "--user", "bob")).TrimEnd();

        var onlyBob = await JsonAsync(Json.IReadOnlyListAuthKeyDto, "authkeys", "list", "--user", "bob");
        Assert.Equal("bob", Assert.Single(onlyBob).User);

        var alicePrefix = alices.Split('-')[2];
        Assert.Equal($"expired auth key {alicePrefix}\n", await OkAsync("authkeys", "expire", alicePrefix));
        var expired = await JsonAsync(Json.AuthKeyDto, "authkeys", "expire", bobs);
        Assert.True(expired.Revoked);

        Assert.All(Rows(await OkAsync("authkeys", "list")).Skip(1), r => Assert.Equal("revoked", r[6]));
    }

    [Theory]
    [InlineData("authkeys", "create")]
    [InlineData("authkeys", "create", "--user", "alice", "--tags", "server")]
    [InlineData("authkeys", "create", "--user", "alice", "--expiration", "tomorrow")]
    [InlineData("authkeys", "create", "--user", "alice", "--expiration", "-5h")]
    [InlineData("authkeys", "expire")]
    [InlineData("authkeys", "expire", "short")]
    public async Task Bad_arguments_are_usage_errors(params string[] args)
    {
        await OkAsync("users", "create", "alice");
        ExpectFailure(await RunAsync(args), 2);
        Assert.Empty(await JsonAsync(Json.IReadOnlyListAuthKeyDto, "authkeys", "list"));
    }

    [Fact]
    public async Task Unknown_users_and_keys_exit_1()
    {
        Assert.Contains("no user 'nobody'", ExpectFailure(await RunAsync("authkeys", "create", "--user", "nobody"), 1));
        Assert.Contains("no auth key", ExpectFailure(await RunAsync("authkeys", "expire", "abcdefghijkl"), 1));
    }
}
