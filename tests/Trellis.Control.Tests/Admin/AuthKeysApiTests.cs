using System.Net;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Admin;

public sealed class AuthKeysApiTests : AdminApiTestBase
{
    [Fact]
    public async Task A_created_key_is_shown_once_and_registers_a_node()
    {
        await Server.CreateUserAsync("alice");
        var created = Expect(
            await PostAsync("/api/v1/authkeys", """{"user":"alice","reusable":true,"ephemeral":true,"expiration":"24h"}"""),
            HttpStatusCode.Created,
            Json.CreatedAuthKeyDto);
        Assert.StartsWith($"trellis-auth-{created.AuthKey.Prefix}-", created.Key);
        Assert.Equal("alice", created.AuthKey.User);
        Assert.True(created.AuthKey.Reusable);
        Assert.True(created.AuthKey.Ephemeral);
        Assert.True(created.AuthKey.Usable);
        Assert.Equal(Server.Clock.GetUtcNow().AddHours(24), created.AuthKey.ExpiresAt!.Value, TimeSpan.FromSeconds(1));

        var registered = await Server.Store.RegisterNodeAsync(new(created.Key, AdminTestServer.NewKey(), AdminTestServer.NewKey(), AdminTestServer.NewKey(), "laptop"));
        Assert.IsType<RegistrationResult.Registered>(registered);

        // The list never carries the secret.
        var (status, body) = await GetAsync("/api/v1/authkeys");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain(created.Key[^20..], body, StringComparison.Ordinal);
        var key = Assert.Single(Expect((status, body), HttpStatusCode.OK, Json.IReadOnlyListAuthKeyDto));
        Assert.Equal(1, key.Uses);
    }

    [Fact]
    public async Task Keys_default_to_single_use_and_an_hour()
    {
        await Server.CreateUserAsync("alice");
        var created = Expect(await PostAsync("/api/v1/authkeys", """{"user":"alice"}"""), HttpStatusCode.Created, Json.CreatedAuthKeyDto);
        Assert.False(created.AuthKey.Reusable);
        Assert.False(created.AuthKey.Ephemeral);
        Assert.Equal(Server.Clock.GetUtcNow().AddHours(1), created.AuthKey.ExpiresAt!.Value, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_tagged_key_with_an_absolute_expiry()
    {
        var when = Server.Clock.GetUtcNow().AddDays(3).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var created = Expect(
            await PostAsync("/api/v1/authkeys", $$"""{"tags":["tag:Server","tag:db"],"expiration":"{{when}}"}"""),
            HttpStatusCode.Created,
            Json.CreatedAuthKeyDto);
        Assert.Null(created.AuthKey.User);
        Assert.Equal(["tag:db", "tag:server"], created.AuthKey.Tags);
        Assert.Equal(DateTimeOffset.Parse(when, System.Globalization.CultureInfo.InvariantCulture), created.AuthKey.ExpiresAt);
    }

    [Theory]
    [InlineData("""{"user":"alice","tags":["tag:x"]}""", "exactly one")]
    [InlineData("""{}""", "exactly one")]
    [InlineData("""{"tags":["server"]}""", "invalid tag")]
    [InlineData("""{"user":"alice","expiration":"soon"}""", "invalid expiration")]
    [InlineData("""{"user":"alice","expiration":"0h"}""", "invalid expiration")]
    [InlineData("""{"user":"alice","expiration":"99999999w"}""", "invalid expiration")]
    [InlineData("""{"user":"alice","expiration":"2001-01-01T00:00:00Z"}""", "already past")]
    [InlineData("""{"user":"alice","reuseable":true}""", "invalid JSON")]
    [InlineData("""{"user":"alice","reusable":"yes"}""", "invalid JSON")]
    public async Task A_bad_key_request_is_a_400(string body, string message)
    {
        await Server.CreateUserAsync("alice");
        var error = ExpectError(await PostAsync("/api/v1/authkeys", body), HttpStatusCode.BadRequest);
        Assert.Contains(message, error);
    }

    [Fact]
    public async Task A_key_for_an_unknown_user_is_a_404()
    {
        ExpectError(await PostAsync("/api/v1/authkeys", """{"user":"nobody"}"""), HttpStatusCode.NotFound);
        ExpectError(await GetAsync("/api/v1/authkeys?user=nobody"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Keys_are_listed_per_user()
    {
        await Server.CreateUserAsync("alice");
        await Server.CreateUserAsync("bob");
        await PostAsync("/api/v1/authkeys", """{"user":"alice"}""");
        await PostAsync("/api/v1/authkeys", """{"user":"bob"}""");
        await PostAsync("/api/v1/authkeys", """{"user":"bob"}""");

        Assert.Equal(3, Expect(await GetAsync("/api/v1/authkeys"), HttpStatusCode.OK, Json.IReadOnlyListAuthKeyDto).Count);
        var bobs = Expect(await GetAsync("/api/v1/authkeys?user=bob"), HttpStatusCode.OK, Json.IReadOnlyListAuthKeyDto);
        Assert.Equal(2, bobs.Count);
        Assert.All(bobs, k => Assert.Equal("bob", k.User));
    }

    [Fact]
    public async Task An_expired_key_registers_nothing()
    {
        await Server.CreateUserAsync("alice");
        var created = Expect(await PostAsync("/api/v1/authkeys", """{"user":"alice","reusable":true}"""), HttpStatusCode.Created, Json.CreatedAuthKeyDto);

        var expired = Expect(await PostAsync($"/api/v1/authkeys/{created.AuthKey.Prefix}/expire"), HttpStatusCode.OK, Json.AuthKeyDto);
        Assert.True(expired.Revoked);
        Assert.False(expired.Usable);

        var registered = await Server.Store.RegisterNodeAsync(new(created.Key, AdminTestServer.NewKey(), AdminTestServer.NewKey(), AdminTestServer.NewKey(), "laptop"));
        Assert.IsType<RegistrationResult.ExpiredKey>(registered);
    }

    [Fact]
    public async Task Expiring_an_unknown_key_is_a_404()
    {
        ExpectError(await PostAsync("/api/v1/authkeys/abcdefghijkl/expire"), HttpStatusCode.NotFound);
    }
}
