using System.Net;
using System.Text;
using System.Text.Json;
using Trellis.Control.Tests.Admin;
using Trellis.Control.WebConsole;

namespace Trellis.Control.Tests.WebConsole;

/// <summary>
/// Signing in to the console with an admin API key: the key opens an admin session whose cookie is
/// not the key; a wrong key, or one not sent as JSON, opens nothing; revoking the key ends the session.
/// </summary>
public sealed class ConsoleKeySignInTests : IAsyncLifetime
{
    private AdminTestServer _server = null!;

    public async Task InitializeAsync() => _server = await AdminTestServer.StartAsync(console: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_live_api_key_opens_an_admin_session_whose_cookie_is_not_the_key()
    {
        using var client = Client();
        using var signedIn = await client.PostAsync(ConsoleKeySignIn.Path, Body(_server.ApiKey));
        var cookie = CookieOf(signedIn);
        using var session = await Get(client, "/admin/session", cookie);
        using var users = await Get(client, "/api/v1/users", cookie);

        Assert.Equal(HttpStatusCode.NoContent, signedIn.StatusCode);
        Assert.DoesNotContain(_server.ApiKey, string.Join(';', signedIn.Headers.GetValues("Set-Cookie")), StringComparison.Ordinal);
        var body = JsonDocument.Parse(await session.Content.ReadAsStringAsync()).RootElement;
        Assert.True(body.GetProperty("admin").GetBoolean());
        Assert.StartsWith("API key ", body.GetProperty("user").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, users.StatusCode);
    }

    [Fact]
    public async Task A_wrong_key_or_one_not_sent_as_json_opens_no_session()
    {
        using var client = Client();
        var wrongSecret = _server.ApiKey[..^4] + (_server.ApiKey.EndsWith("aaaa", StringComparison.Ordinal) ? "bbbb" : "aaaa");
        using var wrong = await client.PostAsync(ConsoleKeySignIn.Path, Body(wrongSecret));
        using var notAKey = await client.PostAsync(ConsoleKeySignIn.Path, Body("hunter2"));
        using var asForm = await client.PostAsync(ConsoleKeySignIn.Path, new StringContent("key=" + _server.ApiKey, Encoding.UTF8, "application/x-www-form-urlencoded"));
        using var huge = await client.PostAsync(ConsoleKeySignIn.Path, Body(new string('a', ConsoleKeySignIn.MaxBody)));

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notAKey.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, asForm.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.All([wrong, notAKey, asForm, huge], r => Assert.False(r.Headers.Contains("Set-Cookie")));
        Assert.Equal(0, _server.Console!.Count);
    }

    [Fact]
    public async Task Revoking_the_key_ends_the_session_it_opened()
    {
        using var client = Client();
        using var signedIn = await client.PostAsync(ConsoleKeySignIn.Path, Body(_server.ApiKey));
        var cookie = CookieOf(signedIn);
        var prefix = (await _server.Store.ListApiKeysAsync()).Single().Prefix;

        await _server.Store.ExpireApiKeyAsync(prefix);
        using var after = await Get(client, "/api/v1/users", cookie);

        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal(0, _server.Console!.Count);
    }

    private HttpClient Client() => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _server.Url };

    private static StringContent Body(string key) => new(JsonSerializer.Serialize(new { key }), Encoding.UTF8, "application/json");

    private static string CookieOf(HttpResponseMessage response) =>
        response.Headers.GetValues("Set-Cookie").Single().Split(';')[0];

    private static async Task<HttpResponseMessage> Get(HttpClient client, string path, string cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return await client.SendAsync(request);
    }
}
