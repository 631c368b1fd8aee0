using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Two nodes behind hard NATs (a random port per destination) cannot punch, so they talk over the
/// server's TCP relay. Once a node on a public host comes up with `up --peer-relay`, the pair moves
/// to UDP through it: `trellis status` says `peer-relay via vps`, pings and iperf3 cross it, and the
/// relay node logs the pair it serves. iperf3 runs over both in the same run; the numbers are
/// printed (for docs/BENCHMARKS.md), never asserted as timings.
/// </summary>
public sealed class PeerRelayTests(ITestOutputHelper output)
{
    private const int IperfSeconds = 5;

    /// <summary>Safety nets, never measurements: the pair asks 2 s into its punch window, then every 3 s.</summary>
    private static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_hard_hard_pair_moves_from_the_relay_to_a_peer_relay_and_carries_iperf3_through_it()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var left = await mesh.AddNodeAsync("left", await mesh.Lab.AddRouterAsync(NatKind.Hard));
        var right = await mesh.AddNodeAsync("right", await mesh.Lab.AddRouterAsync(NatKind.Hard));
        var vps = await mesh.AddNodeAsync("vps");
        await left.UpAsync();
        await right.UpAsync();
        await PingBothWaysAsync(left, right);
        Assert.Equal("relay", await left.PathAsync("right"));
        var overRelay = await MeshIperf.RunAsync(left, right, IperfSeconds, "over the TCP relay", output);
        Assert.Equal("relay", await left.PathAsync("right"));

        await vps.UpAsync("--peer-relay");
        var rightAddress = (await right.AddressesAsync())[0];
        await Poll.UntilAsync(
            async _ =>
            {
                // Traffic keeps the pair active, so it keeps asking for a peer relay.
                await left.PingAsync(rightAddress);
                var l = await left.PeerAsync("right");
                var r = await right.PeerAsync("left");
                return l.GetProperty("path").GetString() == "peer-relay" && r.GetProperty("path").GetString() == "peer-relay";
            },
            PathTimeout,
            "both sides on the peer relay");

        var peer = await left.PeerAsync("right");
        Assert.Equal("vps", peer.GetProperty("peerRelay").GetString());
        Assert.StartsWith(vps.Host.IPv4!.Address + ":", peer.GetProperty("endpoint").GetString(), StringComparison.Ordinal);
        var text = (await left.RunAsync("status")).EnsureSuccess().StandardOutput;
        Assert.Matches(@"right\s+\S+\s+yes\s+peer-relay via vps\s", text);
        Assert.Contains("relaying for peers", vps.Daemon.Output, StringComparison.Ordinal);

        await PingBothWaysAsync(left, right);
        var overPeerRelay = await MeshIperf.RunAsync(left, right, IperfSeconds, "through the peer relay", output);
        Assert.Equal("peer-relay", await left.PathAsync("right"));
        Assert.Equal("peer-relay", await right.PathAsync("left"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BENCHMARK | hard / hard | TCP relay {overRelay / 1e6:0.0} Mbit/s | peer relay {overPeerRelay / 1e6:0.0} Mbit/s |"));
    }

    private static async Task PingBothWaysAsync(LabNode a, LabNode b)
    {
        var aAddress = (await a.AddressesAsync())[0];
        var bAddress = (await b.AddressesAsync())[0];
        await Poll.UntilAsync(_ => a.PingAsync(bAddress), PathTimeout, $"{a.Name} to ping {b.Name}");
        await Poll.UntilAsync(_ => b.PingAsync(aAddress), PathTimeout, $"{b.Name} to ping {a.Name}");
    }
}
