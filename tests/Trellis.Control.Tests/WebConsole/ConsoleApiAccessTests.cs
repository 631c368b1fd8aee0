using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Trellis.Control.Admin;
using Trellis.Control.Tests.Admin;
using Trellis.Control.Tests.TestDoubles;
using Trellis.Control.WebConsole;

namespace Trellis.Control.Tests.WebConsole;

/// <summary>
/// The admin API as the web console calls it: with the session cookie, and on every change the
/// session's CSRF token. Admins may do what an API key may; members may only list their own devices.
/// </summary>
public sealed class ConsoleApiAccessTests : IAsyncLifetime
{
    private readonly RecordingLoggerProvider _logs = new();
    private AdminTestServer _server = null!;

    public async Task InitializeAsync() => _server = await AdminTestServer.StartAsync(logs: _logs, console: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task An_admin_session_changes_things_only_with_its_csrf_token_and_the_change_is_logged_with_the_person()
    {
        var (id, session) = _server.Console!.Open("alice", "alice@example.com", isAdmin: true);

        var withoutToken = await SendAsync(HttpMethod.Post, "/api/v1/users", id, null, """{"name":"bob"}""");
        var wrongToken = await SendAsync(HttpMethod.Post, "/api/v1/users", id, "not-the-token", """{"name":"bob"}""");
        var listed = await SendAsync(HttpMethod.Get, "/api/v1/users", id, null);
        var created = await SendAsync(HttpMethod.Post, "/api/v1/users", id, session.CsrfToken, """{"name":"bob"}""");

        Assert.Equal(HttpStatusCode.Forbidden, withoutToken.Status);
        Assert.Contains("CSRF", withoutToken.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, wrongToken.Status);
        Assert.Equal(HttpStatusCode.OK, listed.Status);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(["bob"], (await _server.Store.ListUsersAsync()).Select(u => u.Name));
        Assert.Contains(_logs.Entries, e => e.Message == "admin POST /api/v1/users by console user alice <alice@example.com> (admin): 201");
        Assert.DoesNotContain(_logs.Entries, e => e.Message.Contains(id, StringComparison.Ordinal) || e.Message.Contains(session.CsrfToken, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_member_sees_only_their_own_devices_and_is_refused_everything_else()
    {
        await _server.RegisterAsync("bob", "bob-laptop");
        await _server.RegisterAsync("carol", "carol-phone");
        var (id, session) = _server.Console!.Open("bob", "bob@example.com", isAdmin: false);

        var mine = await SendAsync(HttpMethod.Get, "/api/v1/nodes", id, null);
        var asked = await SendAsync(HttpMethod.Get, "/api/v1/nodes?user=carol", id, null);
        var users = await SendAsync(HttpMethod.Get, "/api/v1/users", id, null);
        var key = await SendAsync(HttpMethod.Post, "/api/v1/authkeys", id, session.CsrfToken, """{"user":"bob"}""");
        var carolsNode = (await _server.Store.ListNodesAsync("carol")).Value!.Single();
        var delete = await SendAsync(HttpMethod.Delete, $"/api/v1/nodes/{carolsNode.Id}", id, session.CsrfToken);

        Assert.Equal(["bob-laptop"], Names(mine));
        Assert.Equal(["bob-laptop"], Names(asked));
        Assert.Equal(HttpStatusCode.Forbidden, users.Status);
        Assert.Equal(HttpStatusCode.Forbidden, key.Status);
        Assert.Equal(HttpStatusCode.Forbidden, delete.Status);
        Assert.Contains("only admins", delete.Body, StringComparison.Ordinal);
        Assert.Single((await _server.Store.ListNodesAsync("carol")).Value!);
        Assert.DoesNotContain((await _server.Store.ListAuthKeysAsync("bob")).Value!, k => k.UseCount == 0);
    }

    [Fact]
    public async Task A_session_ends_at_sign_out_and_after_its_lifetime()
    {
        var (closed, _) = _server.Console!.Open("alice", null, isAdmin: true);
        var (aged, _) = _server.Console.Open("alice", null, isAdmin: true);
        _server.Console.Close(closed);
        var afterClose = await SendAsync(HttpMethod.Get, "/api/v1/users", closed, null);
        var beforeEnd = await SendAsync(HttpMethod.Get, "/api/v1/users", aged, null);
        _server.Clock.Advance(ConsoleSessions.Lifetime);
        var afterEnd = await SendAsync(HttpMethod.Get, "/api/v1/users", aged, null);
        var unknown = await SendAsync(HttpMethod.Get, "/api/v1/users", "made-up", null);

        Assert.Equal(HttpStatusCode.Unauthorized, afterClose.Status);
        Assert.Equal(HttpStatusCode.OK, beforeEnd.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, afterEnd.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.Status);
    }

    private static string[] Names((HttpStatusCode Status, string Body) answer)
    {
        Assert.True(answer.Status == HttpStatusCode.OK, answer.Body);
        return [.. JsonSerializer.Deserialize(answer.Body, AdminJsonContext.Default.IReadOnlyListNodeDto)!.Select(n => n.Name)];
    }

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, string session, string? csrf, string? json = null)
    {
        using var client = AdminTestServer.Client(_server.Url, apiKey: null);
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", $"{ConsoleCookie.Name}={session}");
        if (csrf is not null)
        {
            request.Headers.Add(ConsoleCookie.CsrfHeader, csrf);
        }

        if (json is not null)
        {
            request.Content = AdminTestServer.Json(json);
        }

        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
