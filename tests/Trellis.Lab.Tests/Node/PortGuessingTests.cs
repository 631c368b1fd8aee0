using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// An easy NAT (one mapping for every destination) and a hard one (a random port per destination):
/// punching alone cannot meet, since the hard side's port toward the easy side is unknown. With port
/// guessing (the default) the hard side opens 256 sockets toward the easy side and the easy side
/// pings random ports of the hard side's address until one meets: the pair goes direct. With
/// `up --no-port-guessing` it stays on the relay. Hard/hard stays on the relay either way (the
/// matrix in NatTraversalTests). The path is read from `trellis status --json`, as a user would.
/// </summary>
public sealed class PortGuessingTests(ITestOutputHelper output)
{
    /// <summary>
    /// Generous: punching first (5 s; none when the map says the hard side's mapping varies), then up
    /// to two attempts 12 s apart, each over within 10 s (the hard side's sockets wait that long); a
    /// safety net, never a measurement.
    /// </summary>
    private static readonly TimeSpan DirectTimeout = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(45);

    /// <summary>With guessing off, how long the pair is watched: beyond both attempts guessing would have made (5 + 12 + 10 s).</summary>
    private static readonly TimeSpan WatchedOff = TimeSpan.FromSeconds(50);

    [Fact]
    public async Task An_easy_NAT_and_a_hard_NAT_go_direct_with_port_guessing()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var (easy, hard) = await PairAsync(mesh);
        var clock = Stopwatch.StartNew();
        await easy.UpAsync();
        await hard.UpAsync();
        await using var watch = PathWatch.Start(easy, hard);
        await PingBothWaysAsync(easy, hard);
        var firstPacket = clock.Elapsed;

        await Poll.UntilAsync(async _ => await easy.PathAsync("hard") == "direct" && await hard.PathAsync("easy") == "direct", DirectTimeout, "both sides direct");
        var onPath = clock.Elapsed;
        var settled = await watch.SettledAsync();
        output.WriteLine($"NAT-MATRIX | easy / hard (port guessing) | direct | first packet {firstPacket.TotalSeconds:0.0} s | direct {onPath.TotalSeconds:0.0} s | settled {settled.TotalSeconds:0.0} s after both up | {watch.Describe()}");

        // The easy side reaches the hard NAT's public address at the guessed port; the hard side, the easy NAT's mapping.
        Assert.StartsWith("198.51.100.", (await easy.PeerAsync("hard")).GetProperty("endpoint").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("198.51.100.", (await hard.PeerAsync("easy")).GetProperty("endpoint").GetString(), StringComparison.Ordinal);
        await Poll.UntilAsync(() => hard.Daemon.Output.Contains("port guessing met", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the hard side to log that port guessing met"); // the log is written asynchronously

        // Traffic flows over it both ways, and `trellis ping` answers over it.
        await PingBothWaysAsync(easy, hard);
        // A ping goes over the relay and every path at once: on a busy machine the relay's answer may
        // come first, but the run ends with the direct path's (`trellis ping` stops when it answers).
        var ping = (await hard.RunAsync("ping", "easy", "-c", "10")).EnsureSuccess();
        Assert.Matches(@"^pong from easy \(100\.64\.[0-9.]+\) via 198\.51\.100\.", ping.StandardOutput.TrimEnd().Split('\n')[^1]);
    }

    [Fact]
    public async Task With_port_guessing_off_an_easy_NAT_and_a_hard_NAT_stay_on_the_relay()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var (easy, hard) = await PairAsync(mesh);
        await easy.UpAsync("--no-port-guessing");
        await hard.UpAsync("--no-port-guessing");
        await PingBothWaysAsync(easy, hard);

        var watched = Stopwatch.StartNew();
        while (watched.Elapsed < WatchedOff)
        {
            Assert.Equal("relay", await easy.PathAsync("hard"));
            Assert.Equal("relay", await hard.PathAsync("easy"));
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        Assert.DoesNotContain("port guessing", easy.Daemon.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("port guessing", hard.Daemon.Output, StringComparison.Ordinal);
        await PingBothWaysAsync(easy, hard);
    }

    private static async Task<(LabNode Easy, LabNode Hard)> PairAsync(MeshLab mesh)
    {
        var easy = await mesh.AddNodeAsync("easy", await mesh.Lab.AddRouterAsync(NatKind.Easy));
        var hard = await mesh.AddNodeAsync("hard", await mesh.Lab.AddRouterAsync(NatKind.Hard));
        return (easy, hard);
    }

    private static async Task PingBothWaysAsync(LabNode a, LabNode b)
    {
        var aAddress = (await a.AddressesAsync())[0];
        var bAddress = (await b.AddressesAsync())[0];
        await Poll.UntilAsync(_ => a.PingAsync(bAddress), PingTimeout, $"{a.Name} to ping {b.Name}");
        await Poll.UntilAsync(_ => b.PingAsync(aAddress), PingTimeout, $"{b.Name} to ping {a.Name}");
    }
}
