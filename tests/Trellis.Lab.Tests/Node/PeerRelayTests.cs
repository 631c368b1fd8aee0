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
    private const int IperfPort = 5201;
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
        Assert.Equal("relay", await PathAsync(left, "right"));
        var overRelay = await IperfAsync(left, right, "over the TCP relay");
        Assert.Equal("relay", await PathAsync(left, "right"));

        await vps.UpAsync("--peer-relay");
        var rightAddress = (await right.AddressesAsync())[0];
        await Poll.UntilAsync(
            async _ =>
            {
                // Traffic keeps the pair active, so it keeps asking for a peer relay.
                await left.PingAsync(rightAddress);
                var l = await PeerAsync(left, "right");
                var r = await PeerAsync(right, "left");
                return l.GetProperty("path").GetString() == "peer-relay" && r.GetProperty("path").GetString() == "peer-relay";
            },
            PathTimeout,
            "both sides on the peer relay");

        var peer = await PeerAsync(left, "right");
        Assert.Equal("vps", peer.GetProperty("peerRelay").GetString());
        Assert.StartsWith(vps.Host.IPv4!.Address + ":", peer.GetProperty("endpoint").GetString(), StringComparison.Ordinal);
        var text = (await left.RunAsync("status")).EnsureSuccess().StandardOutput;
        Assert.Matches(@"right\s+\S+\s+yes\s+peer-relay via vps\s", text);
        Assert.Contains("relaying for peers", vps.Daemon.Output, StringComparison.Ordinal);

        await PingBothWaysAsync(left, right);
        var overPeerRelay = await IperfAsync(left, right, "through the peer relay");
        Assert.Equal("peer-relay", await PathAsync(left, "right"));
        Assert.Equal("peer-relay", await PathAsync(right, "left"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BENCHMARK | hard / hard | TCP relay {overRelay / 1e6:0.0} Mbit/s | peer relay {overPeerRelay / 1e6:0.0} Mbit/s |"));
    }

    private static async Task<JsonElement> PeerAsync(LabNode node, string peer) =>
        (await node.StatusAsync()).GetProperty("peers").EnumerateArray().Single(p => p.GetProperty("hostname").GetString() == peer);

    private static async Task<string?> PathAsync(LabNode node, string peer) => (await PeerAsync(node, peer)).GetProperty("path").GetString();

    private static async Task PingBothWaysAsync(LabNode a, LabNode b)
    {
        var aAddress = (await a.AddressesAsync())[0];
        var bAddress = (await b.AddressesAsync())[0];
        await Poll.UntilAsync(_ => a.PingAsync(bAddress), PathTimeout, $"{a.Name} to ping {b.Name}");
        await Poll.UntilAsync(_ => b.PingAsync(aAddress), PathTimeout, $"{b.Name} to ping {a.Name}");
    }

    /// <summary>An iperf3 TCP run from <paramref name="a"/> to <paramref name="b"/>; the bits per second received.</summary>
    private async Task<double> IperfAsync(LabNode a, LabNode b, string how)
    {
        var port = IperfPort.ToString(CultureInfo.InvariantCulture);
        var server = b.Host.Namespace.StartProcess("iperf3", ["-s", "-1", "-p", port]);
        try
        {
            await Poll.UntilAsync(
                async ct =>
                {
                    Assert.False(server.HasExited, $"iperf3 server exited: {server.Output}");
                    var listening = await b.Host.Namespace.ExecAsync("ss", ["-Hltn", "sport", "=", $":{port}"], CommandOptions.Default, ct);
                    return listening.Succeeded && listening.StandardOutput.Trim().Length > 0;
                },
                TimeSpan.FromSeconds(10),
                "the iperf3 server to listen");

            var bAddress = (await b.AddressesAsync())[0];
            var client = await a.Host.Namespace.ExecAsync(
                "iperf3",
                ["-c", bAddress, "-p", port, "-t", IperfSeconds.ToString(CultureInfo.InvariantCulture), "-J"],
                new CommandOptions { Timeout = TimeSpan.FromSeconds(IperfSeconds + 30) });
            Assert.True(client.Succeeded, $"iperf3 {how} failed: {client}\nserver: {server.Output}");
            using var report = JsonDocument.Parse(client.StandardOutput);
            var received = report.RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"iperf3 TCP {how}: {received / 1e6:0.0} Mbit/s received"));
            Assert.True(received > 0, $"iperf3 {how} reported {received} bits/s received");
            return received;
        }
        finally
        {
            await server.StopAsync();
        }
    }
}
