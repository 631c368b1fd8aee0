namespace Trellis.Cli.Tests.Admin;

public sealed class ApiKeysCliTests : AdminCliTestBase
{
    [Fact]
    public async Task Api_keys_are_created_listed_and_expired()
    {
        var key = (await OkAsync("apikeys", "create", "--expiration", "7d")).TrimEnd('\n');
        Assert.StartsWith("trellis-api-", key);

        // The new key works on its own.
        var (code, output, _) = await RunRawAsync("users", "list", "--server", Server.Url, "--api-key", key);
        Assert.Equal(0, code);
        Assert.StartsWith("ID", output);

        var rows = Rows(await OkAsync("apikeys", "list"));
        Assert.Equal(["PREFIX", "CREATED", "EXPIRES", "LAST USED", "STATE"], rows[0]);
        Assert.Equal(2, rows.Count - 1);

        var prefix = key.Split('-')[2];
        Assert.Equal($"expired API key {prefix}\n", await OkAsync("apikeys", "expire", prefix));
        var refused = ExpectFailure(await RunRawAsync("users", "list", "--server", Server.Url, "--api-key", key), 1);
        Assert.Contains("refused", refused);

        var listed = await JsonAsync(Json.IReadOnlyListApiKeyDto, "apikeys", "list");
        Assert.True(listed.Single(k => k.Prefix == prefix).Expired);
    }

    [Fact]
    public async Task Json_creation_carries_the_key_once()
    {
        var created = await JsonAsync(Json.CreatedApiKeyDto, "apikeys", "create");
        Assert.StartsWith($"trellis-api-{created.ApiKey.Prefix}-", created.Key);
        ExpectFailure(await RunAsync("apikeys", "create", "--expiration", "forever"), 2);
    }
}
