using System.Diagnostics;

namespace Trellis.Control.Tests.Admin;

/// <summary>
/// Another local user must get nowhere on the admin socket: the file mode stops them, and should
/// the mode ever be loosened, the peer credentials still do. Needs root to act as "nobody" (CI
/// runs as root, so a missing privilege fails rather than skips); perl is in every Debian.
/// </summary>
public sealed class AdminSocketPeerTests : AdminApiTestBase
{
    private const string Nobody = "65534";

    [Fact]
    public async Task Another_user_cannot_connect_to_the_admin_socket()
    {
        var (code, output) = await AsNobodyAsync(Server.SocketPath);
        Assert.True(code == 3, $"expected the connection to be refused, got exit {code}: {output}");
        Assert.Contains("Permission denied", output);
    }

    [Fact]
    public async Task Another_user_is_refused_by_peer_credentials_if_the_mode_is_loosened()
    {
        File.SetUnixFileMode(Server.SocketPath, (UnixFileMode)0b110_110_110);
        var (code, output) = await AsNobodyAsync(Server.SocketPath);
        Assert.True(code == 0, $"exit {code}: {output}");
        Assert.StartsWith("HTTP/1.1 401", output, StringComparison.Ordinal);
    }

    /// <summary>An HTTP GET of /api/v1/users over the socket, as uid 65534; exit 3 when connect fails.</summary>
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
            syswrite($s, "GET /api/v1/users HTTP/1.0\r\nHost: localhost\r\n\r\n");
            my $answer = '';
            while (sysread($s, my $chunk, 4096)) { $answer .= $chunk }
            print $answer;
            """;
        var start = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "perl", "-e", script, socket })
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
