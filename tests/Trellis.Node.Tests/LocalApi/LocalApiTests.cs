using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Node.LocalApi;

namespace Trellis.Node.Tests.LocalApi;

public sealed class LocalApiTests : IDisposable
{
    private const string Nobody = "65534";
    private readonly string _root = Directory.CreateTempSubdirectory("trellis-api-").FullName;
    private readonly StubBackend _backend = new();

    public LocalApiTests()
    {
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101); // traversable, so "nobody" meets the socket's own checks
    }

    private string SocketPath => Path.Combine(_root, "run", "trellis.sock");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private Task<LocalApiServer> StartAsync(Func<uint, bool>? allowed = null) =>
        LocalApiServer.StartAsync(SocketPath, _backend, NullLoggerFactory.Instance, allowed);

    [Fact]
    public async Task The_typed_client_round_trips_every_endpoint_over_a_0600_socket()
    {
        await using var server = await StartAsync();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SocketPath));
        using var client = new LocalApiClient(SocketPath);

        Assert.Equal("https://stub.example/", (await client.StatusAsync(CancellationToken.None)).Server);
        var up = await client.UpAsync(new UpRequest { Server = "https://stub.example", AuthKey = "k", Settings = new() { AdvertiseRoutes = ["10.0.0.0/24"], AcceptRoutes = true } }, CancellationToken.None);
        Assert.Equal(NodeStates.Pending, up.State);
        Assert.Equal("trellis nodes approve 7 --user USER", up.ApproveHint);
        Assert.Equal(("https://stub.example", "k", true, null, null), (_backend.LastUp!.Server, _backend.LastUp.AuthKey, _backend.LastUp.Settings.AcceptRoutes, _backend.LastUp.Settings.PeerRelay, _backend.LastUp.Settings.Masquerade));
        Assert.Equal(["10.0.0.0/24"], _backend.LastUp.Settings.AdvertiseRoutes);

        var set = await client.SetAsync(new SetRequest { Settings = new() { AcceptRoutes = true } }, CancellationToken.None);
        Assert.True(set.AcceptRoutes);
        Assert.Equal((true, null), (_backend.LastSet!.Settings.AcceptRoutes, _backend.LastSet.Settings.AdvertiseRoutes));
        var prefs = await client.PrefsAsync(CancellationToken.None);
        Assert.Equal(["10.0.0.0/24"], prefs.AdvertiseRoutes);
        Assert.True(prefs.WantUp);

        await client.DownAsync(CancellationToken.None);
        Assert.Equal(1, _backend.Downs);

        var rejected = await Assert.ThrowsAsync<LocalApiException>(() => client.UpAsync(new UpRequest { AuthKey = "bad" }, CancellationToken.None));
        Assert.Equal((LocalApiErrors.Rejected, "the server refused the registration: invalid auth key"), (rejected.Code, rejected.Message));
        var logout = await Assert.ThrowsAsync<LocalApiException>(() => client.LogoutAsync(CancellationToken.None));
        Assert.Equal(LocalApiErrors.Unreachable, logout.Code);
    }

    [Fact]
    public async Task A_malformed_up_request_is_answered_400_with_the_reason()
    {
        await using var server = await StartAsync();
        var answer = await RawAsync(SocketPath, "POST /v1/up HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1\r\nConnection: close\r\n\r\n{");
        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        Assert.Contains("\"code\": \"invalid\"", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_caller_whose_peer_credentials_are_not_allowed_is_refused()
    {
        uint? seen = null;
        await using var server = await StartAsync(uid =>
        {
            seen = uid;
            return false;
        });
        using var client = new LocalApiClient(SocketPath);
        var refused = await Assert.ThrowsAsync<LocalApiException>(() => client.StatusAsync(CancellationToken.None));
        Assert.Equal(LocalApiErrors.Forbidden, refused.Code);
        Assert.Equal(GetUid(), seen); // the kernel's answer for this very process
    }

    [Fact]
    public async Task Another_user_cannot_connect_and_is_refused_by_peer_credentials_if_the_mode_is_loosened()
    {
        await using var server = await StartAsync();
        var (code, output) = await AsNobodyAsync(SocketPath);
        Assert.True(code == 3, $"expected the connection to be refused, got exit {code}: {output}");
        Assert.Contains("Permission denied", output, StringComparison.Ordinal);

        File.SetUnixFileMode(SocketPath, (UnixFileMode)0b110_110_110);
        (code, output) = await AsNobodyAsync(SocketPath);
        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.StartsWith("HTTP/1.1 403", output, StringComparison.Ordinal);
        Assert.Contains("only root and the daemon's own user", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_live_daemons_socket_is_not_taken_over_but_a_stale_one_is_replaced()
    {
        await using (var first = await StartAsync())
        {
            var busy = await Assert.ThrowsAsync<IOException>(() => StartAsync());
            Assert.Contains("another trellis daemon is already listening", busy.Message, StringComparison.Ordinal);
            using var client = new LocalApiClient(SocketPath);
            await client.StatusAsync(CancellationToken.None); // the first one still serves
        }

        // What a crash leaves: a socket file nobody listens on (.NET would unlink its own on close; perl does not).
        var (code, output) = await RunAsync("perl", "-e", "use Socket; socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die $!; bind($s, pack_sockaddr_un($ARGV[0])) or die $!", SocketPath);
        Assert.True(code == 0, output);

        Assert.True(File.Exists(SocketPath));
        await using var second = await StartAsync();
        using var again = new LocalApiClient(SocketPath);
        Assert.Equal(NodeStates.Stopped, (await again.StatusAsync(CancellationToken.None)).State);
    }

    [Fact]
    public async Task A_regular_file_in_the_way_is_left_alone()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(SocketPath)!);
        await File.WriteAllTextAsync(SocketPath, "precious");
        var refused = await Assert.ThrowsAsync<IOException>(() => StartAsync());
        Assert.Contains("is not a socket", refused.Message, StringComparison.Ordinal);
        Assert.Equal("precious", await File.ReadAllTextAsync(SocketPath));
    }

    [Fact]
    public async Task Without_a_daemon_the_client_says_where_it_looked()
    {
        using var client = new LocalApiClient(SocketPath);
        var missing = await Assert.ThrowsAsync<LocalApiException>(() => client.StatusAsync(CancellationToken.None));
        Assert.Equal(LocalApiErrors.Unavailable, missing.Code);
        Assert.Contains($"no trellis daemon at {SocketPath}", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_socket_file_is_removed_when_the_server_stops()
    {
        var server = await StartAsync();
        Assert.True(File.Exists(SocketPath));
        await server.DisposeAsync();
        Assert.False(File.Exists(SocketPath));
    }

    private static uint GetUid() => uint.Parse(File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2], System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<string> RawAsync(string path, string request)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return answer.ToString();
    }

    /// <summary>GET /v1/status over the socket as uid 65534 (perl is in every Debian); exit 3 when connect fails.</summary>
    private static async Task<(int Code, string Output)> AsNobodyAsync(string socket)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Fail("this test acts as another user and needs root; run the tests as root, as CI does");
        }

        const string script = """
            use Socket;
            socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
            connect($s, pack_sockaddr_un($ARGV[0])) or do { print "connect: $!\n"; exit 3 };
            syswrite($s, "GET /v1/status HTTP/1.0\r\nHost: localhost\r\n\r\n");
            my $answer = '';
            while (sysread($s, my $chunk, 4096)) { $answer .= $chunk }
            print $answer;
            """;
        return await RunAsync("setpriv", $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "perl", "-e", script, socket);
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }
}
