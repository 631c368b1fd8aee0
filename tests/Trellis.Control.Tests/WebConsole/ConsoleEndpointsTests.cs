using System.Net;
using System.Text.Json;
using Trellis.Control.Tests.Admin;
using Trellis.Control.WebConsole;

namespace Trellis.Control.Tests.WebConsole;

/// <summary>The console's own endpoints: the embedded page under a strict policy, sign-in's first step, the session the page reads, sign-out.</summary>
public sealed class ConsoleEndpointsTests : IAsyncLifetime
{
    private AdminTestServer _server = null!;

    public async Task InitializeAsync() => _server = await AdminTestServer.StartAsync(console: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_page_its_script_and_style_are_served_from_the_binary_under_a_strict_content_policy()
    {
        using var client = Client();
        using var bare = await client.GetAsync("/admin");
        using var page = await client.GetAsync("/admin/");
        using var script = await client.GetAsync("/admin/console.js");
        using var style = await client.GetAsync("/admin/console.css");

        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/admin/", bare.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<script src=\"console.js\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var policy = string.Join(' ', page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Contains("X-Trellis-Csrf", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("text/css", style.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Sign_in_sends_the_browser_to_the_provider_with_a_fresh_state_each_time()
    {
        using var client = Client();
        using var first = await client.GetAsync("/admin/login");
        using var second = await client.GetAsync("/admin/login");

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        var url = first.Headers.Location!;
        Assert.Equal(AdminTestServer.ConsoleIssuer + "/auth", url.GetLeftPart(UriPartial.Path));
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        Assert.Equal("http://vpn.example.com/oidc/callback", query["redirect_uri"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.NotEqual(query["state"], System.Web.HttpUtility.ParseQueryString(second.Headers.Location!.Query)["state"]);
    }

    [Fact]
    public async Task The_session_tells_the_page_its_csrf_token_and_sign_out_needs_it()
    {
        var (id, session) = _server.Console!.Open("alice", "alice@example.com", isAdmin: true);
        using var client = Client();

        using var anonymous = await client.GetAsync("/admin/session");
        using var read = await Send(client, HttpMethod.Get, "/admin/session", id, null);
        using var forged = await Send(client, HttpMethod.Post, "/admin/logout", id, null);
        var stillThere = _server.Console.Find(id);
        using var signedOut = await Send(client, HttpMethod.Post, "/admin/logout", id, session.CsrfToken);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("no-store", read.Headers.CacheControl!.ToString());
        var body = JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("alice", body.GetProperty("user").GetString());
        Assert.True(body.GetProperty("admin").GetBoolean());
        Assert.Equal(session.CsrfToken, body.GetProperty("csrf").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.NotNull(stillThere);
        Assert.Equal(HttpStatusCode.NoContent, signedOut.StatusCode);
        Assert.Null(_server.Console.Find(id));
        var cleared = string.Join(';', signedOut.Headers.GetValues("Set-Cookie"));
        Assert.Contains(ConsoleCookie.Name + "=;", cleared, StringComparison.Ordinal);
        Assert.Contains("httponly", cleared, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cleared, StringComparison.OrdinalIgnoreCase);
    }

    private HttpClient Client() => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _server.Url };

    private static Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, string session, string? csrf)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", $"{ConsoleCookie.Name}={session}");
        if (csrf is not null)
        {
            request.Headers.Add(ConsoleCookie.CsrfHeader, csrf);
        }

        return client.SendAsync(request);
    }
}
