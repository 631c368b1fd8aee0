using System.Net;
using System.Net.Sockets;

namespace Trellis.Cli.Tests.Admin;

public sealed class AdminConnectionCliTests : AdminCliTestBase
{
    [Fact]
    public async Task The_admin_socket_needs_no_api_key()
    {
        var (code, output, error) = await RunRawAsync("users", "create", "alice", "--admin-socket", Server.SocketPath);
        Assert.True(code == 0, error);
        Assert.Equal("created user alice (id 1)\n", output);

        (code, output, _) = await RunRawAsync("users", "list", "--json", "--admin-socket", Server.SocketPath);
        Assert.Equal(0, code);
        Assert.Contains("\"alice\"", output);
    }

    [Fact]
    public async Task A_missing_admin_socket_is_a_clear_failure()
    {
        var missing = Path.Combine(Server.Directory, "nothing-here.sock");
        var error = ExpectFailure(await RunRawAsync("users", "list", "--admin-socket", missing), 1);
        Assert.Contains($"cannot reach the admin socket {missing}: there is no such socket;", error);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task A_server_that_is_not_running_is_a_clear_failure()
    {
        // A port that was free a moment ago: nothing listens there.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        var error = ExpectFailure(await RunRawAsync("nodes", "list", "--server", $"http://127.0.0.1:{port}", "--api-key", Server.ApiKey), 1);
        Assert.Contains($"cannot reach http://127.0.0.1:{port}", error);
    }

    [Fact]
    public async Task A_wrong_api_key_exits_1_and_says_so()
    {
        var error = ExpectFailure(await RunRawAsync("users", "list", "--server", Server.Url, "--api-key", "trellis-api-nope"), 1);
        Assert.Contains("refused the request: the API key is invalid or expired", error);
    }

    [Theory]
    [InlineData("users", "list", "--server", "http://127.0.0.1:1")]
    [InlineData("users", "list", "--server", "ftp://example.com", "--api-key", "k")]
    [InlineData("users", "list", "--server", "not a url", "--api-key", "k")]
    [InlineData("users", "list", "--server", "http://127.0.0.1:1", "--api-key", "k", "--admin-socket", "/tmp/x.sock")]
    public async Task Inconsistent_connection_options_are_usage_errors(params string[] args)
    {
        ExpectFailure(await RunRawAsync(args), 2);
    }

    [Fact]
    public async Task Something_that_is_not_a_trellis_server_is_named_as_such()
    {
        // The OpenAPI document's path exists but the verb's does not: a plain 404 without our error body.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serve = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            using var stream = client.GetStream();
            var buffer = new byte[4096];
            _ = await stream.ReadAsync(buffer);
            await stream.WriteAsync("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"u8.ToArray());
        });

        var error = ExpectFailure(await RunRawAsync("users", "list", "--server", $"http://127.0.0.1:{port}", "--api-key", "k"), 1);
        Assert.Contains("answered 404", error);
        await serve;
    }

    [Fact]
    public async Task Every_admin_verb_has_help()
    {
        foreach (var verb in new[] { "users", "authkeys", "nodes", "routes", "apikeys" })
        {
            var (code, output, _) = await RunRawAsync(verb, "--help");
            Assert.Equal(0, code);
            Assert.Contains("--server", output);
            Assert.Contains("--json", output);
        }
    }
}
