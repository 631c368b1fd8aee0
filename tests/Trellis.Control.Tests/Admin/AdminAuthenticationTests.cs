using System.Net;
using Trellis.Control.Admin;

namespace Trellis.Control.Tests.Admin;

public sealed class AdminAuthenticationTests : AdminApiTestBase
{
    public static TheoryData<string, string> Endpoints => new()
    {
        { "GET", "/api/v1/users" },
        { "POST", "/api/v1/users" },
        { "DELETE", "/api/v1/users/alice" },
        { "GET", "/api/v1/authkeys" },
        { "POST", "/api/v1/authkeys" },
        { "POST", "/api/v1/authkeys/abcdefghijkl/expire" },
        { "GET", "/api/v1/nodes" },
        { "DELETE", "/api/v1/nodes/1" },
        { "POST", "/api/v1/nodes/1/expire" },
        { "POST", "/api/v1/nodes/1/rename" },
        { "POST", "/api/v1/nodes/1/approve" },
        { "GET", "/api/v1/routes" },
        { "POST", "/api/v1/nodes/1/routes/approve" },
        { "POST", "/api/v1/nodes/1/routes/reject" },
        { "GET", "/api/v1/apikeys" },
        { "POST", "/api/v1/apikeys" },
        { "POST", "/api/v1/apikeys/abcdefghijkl/expire" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Every_endpoint_needs_a_key_over_tcp(string method, string path)
    {
        using var anonymous = Server.Client(apiKey: null);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using var response = await anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Contains("API key is required", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("trellis-api-abcdefghijkl-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("not-a-key")]
    [InlineData("trellis-auth-abcdefghijkl-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task A_wrong_key_is_a_401(string key)
    {
        using var client = Server.Client(key);
        var error = ExpectError(await SendAsync(HttpMethod.Get, "/api/v1/users", client: client), HttpStatusCode.Unauthorized);
        Assert.Contains("invalid or expired", error);
    }

    [Fact]
    public async Task The_right_prefix_with_a_wrong_secret_is_a_401()
    {
        var forged = Server.ApiKey[..^4] + (Server.ApiKey.EndsWith("aaaa", StringComparison.Ordinal) ? "bbbb" : "aaaa");
        using var client = Server.Client(forged);
        ExpectError(await SendAsync(HttpMethod.Get, "/api/v1/users", client: client), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_key_past_its_expiry_is_a_401()
    {
        var created = await Server.Store.CreateApiKeyAsync(Server.Clock.GetUtcNow().AddHours(1));
        using var client = Server.Client(created.Value!.Plaintext);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/api/v1/users", client: client)).Status);

        Server.Clock.Advance(TimeSpan.FromHours(2));
        ExpectError(await SendAsync(HttpMethod.Get, "/api/v1/users", client: client), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_rejected_request_changes_nothing()
    {
        using var anonymous = Server.Client(apiKey: null);
        ExpectError(await SendAsync(HttpMethod.Post, "/api/v1/users", """{"name":"mallory"}""", anonymous), HttpStatusCode.Unauthorized);
        Assert.Empty(await Server.Store.ListUsersAsync());
    }

    [Fact]
    public async Task The_admin_socket_needs_no_key()
    {
        using var local = Server.SocketClient();
        Expect(await SendAsync(HttpMethod.Post, "/api/v1/users", """{"name":"alice"}""", local), HttpStatusCode.Created, Json.UserDto);
        var users = Expect(await SendAsync(HttpMethod.Get, "/api/v1/users", client: local), HttpStatusCode.OK, Json.IReadOnlyListUserDto);
        Assert.Equal(["alice"], users.Select(u => u.Name));
    }

    [Fact]
    public void The_admin_socket_is_for_its_owner_only()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Server.SocketPath));
    }

    [Fact]
    public async Task A_stale_socket_file_is_replaced_and_a_live_one_is_not()
    {
        // The running server's socket is live: preparing it again must refuse rather than steal it.
        Assert.Throws<IOException>(() => AdminApi.PrepareSocket(Server.SocketPath));

        var stale = Path.Combine(Path.GetDirectoryName(Server.SocketPath)!, "stale.sock");
        await File.WriteAllBytesAsync(stale, []);
        AdminApi.PrepareSocket(stale);
        Assert.False(File.Exists(stale));

        var data = Path.Combine(Path.GetDirectoryName(Server.SocketPath)!, "data.txt");
        await File.WriteAllTextAsync(data, "keep me");
        Assert.Throws<IOException>(() => AdminApi.PrepareSocket(data));
        Assert.True(File.Exists(data));
    }

    [Fact]
    public async Task The_openapi_document_is_served_without_a_key_and_describes_the_api()
    {
        using var anonymous = Server.Client(apiKey: null);
        using var response = await anonymous.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.Content.ReadAsStringAsync();
        Assert.Contains("Trellis admin API", document);
        foreach (var path in new[] { "/api/v1/users", "/api/v1/users/{name}", "/api/v1/authkeys", "/api/v1/nodes/{id}/routes/approve", "/api/v1/apikeys/{prefix}/expire", "/api/v1/routes" })
        {
            Assert.Contains($"\"{path}\"", document);
        }

        Assert.Contains("\"bearer\"", document);
        Assert.Contains("\"reusable\"", document); // request bodies are described too
    }

    [Fact]
    public async Task An_unknown_admin_path_is_a_json_404()
    {
        ExpectError(await GetAsync("/api/v1/widgets"), HttpStatusCode.NotFound);
        ExpectError(await SendAsync(HttpMethod.Put, "/api/v1/users"), HttpStatusCode.NotFound);
    }

    public static TheoryData<string> Garbage => new()
    {
        "", "{", "}", "[1,2", "\"text\"", "123", "true", "{\"a\":", "\u0000\u0001", "{\"name\":\"x\",\"name\":\"y\"}",
        "{\"prefixes\":[null]}", "{\"tags\":[null]}", "{\"user\":null,\"tags\":null}", "{\"expiration\":12}",
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task Garbage_bodies_never_cause_a_500(string body)
    {
        var node = await Server.RegisterAsync("alice", "router", ["10.1.0.0/24"]);
        foreach (var path in new[]
        {
            "/api/v1/users", "/api/v1/authkeys", "/api/v1/apikeys", $"/api/v1/nodes/{node.Id}/rename", $"/api/v1/nodes/{node.Id}/approve",
            $"/api/v1/nodes/{node.Id}/routes/approve", $"/api/v1/nodes/{node.Id}/routes/reject",
        })
        {
            var (status, text) = await PostAsync(path, body);
            Assert.True((int)status < 500, $"{path} with {body}: {(int)status} {text}");
        }
    }
}
