using System.Net;

namespace Trellis.Control.Tests.Admin;

public sealed class ApiKeysApiTests : AdminApiTestBase
{
    [Fact]
    public async Task A_created_api_key_works_and_stops_working_once_expired()
    {
        var created = Expect(await PostAsync("/api/v1/apikeys", """{"expiration":"30d"}"""), HttpStatusCode.Created, Json.CreatedApiKeyDto);
        Assert.StartsWith($"trellis-api-{created.ApiKey.Prefix}-", created.Key);
        Assert.Equal(Server.Clock.GetUtcNow().AddDays(30), created.ApiKey.ExpiresAt!.Value, TimeSpan.FromSeconds(1));

        using var client = Server.Client(created.Key);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/api/v1/users", client: client)).Status);

        var expired = Expect(await PostAsync($"/api/v1/apikeys/{created.ApiKey.Prefix}/expire"), HttpStatusCode.OK, Json.ApiKeyDto);
        Assert.True(expired.Expired);
        ExpectError(await SendAsync(HttpMethod.Get, "/api/v1/users", client: client), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Keys_default_to_ninety_days_and_are_listed_without_secrets()
    {
        var created = Expect(await PostAsync("/api/v1/apikeys"), HttpStatusCode.Created, Json.CreatedApiKeyDto);
        Assert.Equal(Server.Clock.GetUtcNow().AddDays(90), created.ApiKey.ExpiresAt!.Value, TimeSpan.FromSeconds(1));

        var (status, body) = await GetAsync("/api/v1/apikeys");
        var keys = Expect((status, body), HttpStatusCode.OK, Json.IReadOnlyListApiKeyDto);
        Assert.Equal(2, keys.Count); // the test's own key and the new one
        Assert.Contains(keys, k => k.Prefix == created.ApiKey.Prefix);
        Assert.DoesNotContain(created.Key[^20..], body, StringComparison.Ordinal);
        Assert.DoesNotContain(Server.ApiKey[^20..], body, StringComparison.Ordinal);
        Assert.NotNull(keys[0].LastUsedAt);
    }

    [Fact]
    public async Task Bad_api_key_requests_are_refused()
    {
        ExpectError(await PostAsync("/api/v1/apikeys", """{"expiration":"never"}"""), HttpStatusCode.BadRequest);
        ExpectError(await PostAsync("/api/v1/apikeys", """{"lifetime":"1h"}"""), HttpStatusCode.BadRequest);
        ExpectError(await PostAsync("/api/v1/apikeys/abcdefghijkl/expire"), HttpStatusCode.NotFound);
    }
}
