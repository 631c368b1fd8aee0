using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>What a person gets wrong with `trellis up` and `trellis daemon`: each a clear message and a non-zero exit, nothing broken.</summary>
public sealed class NodeBadInputTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Bad_keys_wrong_and_unreachable_servers_and_a_second_daemon_each_fail_clearly_and_the_node_still_joins_after()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var node = await mesh.AddNodeAsync("alpha");

        var badKey = await node.RunAsync("up", "--server", mesh.ServerUrl, "--authkey", "trellis-auth-0000-nonsense", "--hostname", "alpha");
        Assert.Equal(1, badKey.ExitCode);
        Assert.Contains("key", badKey.StandardError, StringComparison.OrdinalIgnoreCase);

        var refused = await node.RunAsync("up", "--server", $"http://{mesh.ServerHost.IPv4!.Endpoint(9)}", "--authkey", mesh.AuthKey);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("reach", refused.StandardError, StringComparison.OrdinalIgnoreCase);

        var notTrellis = await node.RunAsync("up", "--server", mesh.ServerUrl + "/health/", "--authkey", mesh.AuthKey);
        Assert.Equal(1, notTrellis.ExitCode);
        Assert.Contains("not a Trellis", notTrellis.StandardError, StringComparison.OrdinalIgnoreCase);

        var notUrl = await node.RunAsync("up", "--server", "vpn.example.com", "--authkey", mesh.AuthKey);
        Assert.Equal(2, notUrl.ExitCode);

        // A second daemon on the same state directory or socket refuses to start and leaves the first alone.
        var second = await mesh.Run(node.Host, "daemon", "--state-dir", node.StateDirectory, "--socket", node.Socket + "2", "--tun", "trellis9", "--port", "41642");
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("already", second.StandardError, StringComparison.OrdinalIgnoreCase);
        var secondSocket = await mesh.Run(node.Host, "daemon", "--state-dir", node.StateDirectory + "-other", "--socket", node.Socket, "--tun", "trellis9", "--port", "41642");
        Assert.Equal(1, secondSocket.ExitCode);
        Assert.Null(node.Daemon.ExitCode);

        await node.UpAsync();
        var status = await node.StatusAsync();
        Assert.Equal("running", status.GetProperty("state").GetString());

        // netcheck through the daemon measures against the server's embedded STUN, from the map.
        var netcheck = (await node.RunAsync("netcheck", "--json")).EnsureSuccess();
        var report = System.Text.Json.JsonDocument.Parse(netcheck.StandardOutput).RootElement;
        Assert.True(report.GetProperty("udpV4").GetBoolean());
        Assert.StartsWith(node.Host.IPv4!.Address + ":", report.GetProperty("globalV4").GetString(), StringComparison.Ordinal);
        Assert.Equal(900, report.GetProperty("preferredRegion").GetInt32());
    }
}
