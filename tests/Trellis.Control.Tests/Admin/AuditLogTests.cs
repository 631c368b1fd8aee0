using Microsoft.Extensions.Logging;
using Trellis.Control.Store;
using Trellis.Core.Control;
using Trellis.Control.Tests.TestDoubles;

namespace Trellis.Control.Tests.Admin;

/// <summary>The server's log is its audit trail: every admin change names who made it, and never a secret.</summary>
public sealed class AuditLogTests : IAsyncLifetime
{
    private readonly RecordingLoggerProvider _logs = new();
    private AdminTestServer _server = null!;

    public async Task InitializeAsync() => _server = await AdminTestServer.StartAsync(logs: _logs);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task An_approval_is_logged_with_the_api_key_or_the_uid_that_made_it()
    {
        await _server.CreateUserAsync("alice");
        var first = await _server.RegisterPendingAsync("stranger");
        var second = await _server.RegisterPendingAsync("visitor");

        using (var api = _server.Client())
        using (var answer = await api.PostAsync($"/api/v1/nodes/{first.Id}/approve", AdminTestServer.Json("""{"user":"alice"}""")))
        {
            Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
        }

        using (var socket = _server.SocketClient())
        using (var answer = await socket.PostAsync($"/api/v1/nodes/{second.Id}/approve", AdminTestServer.Json("""{"user":"alice"}""")))
        {
            Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
        }

        Assert.True(SecretKeys.TryParse(_server.ApiKey, SecretKeys.ApiKind, out var prefix, out _));
        var audit = _logs.Entries.Where(e => e.Level == LogLevel.Information && e.Message.StartsWith("admin ", StringComparison.Ordinal)).Select(e => e.Message).ToList();
        Assert.Contains($"admin POST /api/v1/nodes/{first.Id}/approve by API key {prefix}: 200", audit);
        Assert.Contains($"admin POST /api/v1/nodes/{second.Id}/approve by uid {Trellis.Net.UnixPeer.EffectiveUserId} on the local admin socket: 200", audit);
        Assert.DoesNotContain(_logs.Entries, e => e.Message.Contains(_server.ApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_registration_is_logged_with_the_public_prefix_of_its_auth_key_never_the_secret()
    {
        await _server.CreateUserAsync("alice");
        var key = (await _server.Store.CreateAuthKeyAsync("alice", null, reusable: false, ephemeral: false, _server.Clock.GetUtcNow().AddHours(1))).Value!;
        var reply = await _server.Service.RegisterAsync(AdminTestServer.NewKey(), new RegisterRequest
        {
            NodeKey = AdminTestServer.NewKey().ToBase64(),
            DiscoKey = AdminTestServer.NewKey().ToBase64(),
            Hostname = "laptop",
            AuthKey = key.Plaintext,
        });
        Assert.Equal(RegisterStatus.Active, reply.Status);

        var registered = Assert.Single(_logs.Entries, e => e.Message.Contains(" registered", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, registered.Level);
        Assert.Equal($"node laptop ({reply.Self!.Id}) registered with auth key {key.Key.Prefix}", registered.Message);
        Assert.DoesNotContain(_logs.Entries, e => e.Message.Contains(key.Plaintext, StringComparison.Ordinal));
    }
}
