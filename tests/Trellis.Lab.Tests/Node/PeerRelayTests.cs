using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Two nodes behind hard NATs (a random port per destination) cannot punch, so they talk over the
/// server's TCP relay. Once a node on a public host comes up with `up --peer-relay`, the pair moves
/// to UDP through it: `trellis status` says `peer-relay via vps`, pings and iperf3 cross it, and the
/// relay node logs the pair it serves. iperf3 runs over both in the same run; the numbers are
/// printed (for docs/BENCHMARKS.md), never asserted as timings. Under an access policy only the
/// nodes that may reach the relay node get a peer-relay path.
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
        await Poll.UntilAsync(() => vps.Daemon.Output.Contains("relaying for peers", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the vps to log that it relays for peers"); // the log is written asynchronously

        await PingBothWaysAsync(left, right);
        var overPeerRelay = await MeshIperf.RunAsync(left, right, IperfSeconds, "through the peer relay", output);
        Assert.Equal("peer-relay", await left.PathAsync("right"));
        Assert.Equal("peer-relay", await right.PathAsync("left"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BENCHMARK | hard / hard | TCP relay {overRelay / 1e6:0.0} Mbit/s | peer relay {overPeerRelay / 1e6:0.0} Mbit/s |"));
    }

    /// <summary>
    /// Under a policy: alice's node reaches bob's and carol's; alice and bob may reach the relay
    /// node (tag:relay), carol may not (the relay may reach her, so she sees it). Alice and bob go
    /// through the peer relay; alice and carol stay on the TCP relay, however long they talk.
    /// </summary>
    [Fact]
    public async Task A_node_the_policy_keeps_from_the_relay_gets_no_peer_relay_path_while_an_allowed_pair_does()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        foreach (var user in new[] { "alice", "bob", "carol" })
        {
            await mesh.AdminAsync("users", "create", user);
        }

        var policyFile = Path.Combine(mesh.ServerDataDirectory, "..", "policy.hujson");
        await File.WriteAllTextAsync(policyFile, RelayPolicy);
        await mesh.AdminAsync("policy", "set", policyFile);

        var left = await mesh.AddNodeAsync("left", await mesh.Lab.AddRouterAsync(NatKind.Hard));
        var right = await mesh.AddNodeAsync("right", await mesh.Lab.AddRouterAsync(NatKind.Hard));
        var far = await mesh.AddNodeAsync("far", await mesh.Lab.AddRouterAsync(NatKind.Hard));
        var vps = await mesh.AddNodeAsync("vps");
        await left.UpWithKeyAsync(await KeyAsync(mesh, "--user", "alice"));
        await right.UpWithKeyAsync(await KeyAsync(mesh, "--user", "bob"));
        await far.UpWithKeyAsync(await KeyAsync(mesh, "--user", "carol"));
        await vps.UpWithKeyAsync(await KeyAsync(mesh, "--tags", "tag:relay"), "--peer-relay");

        var rightAddress = (await right.AddressesAsync())[0];
        var farAddress = (await far.AddressesAsync())[0];
        await Poll.UntilAsync(
            async _ =>
            {
                await left.PingAsync(farAddress);
                await left.PingAsync(rightAddress);
                return await left.PathAsync("right") == "peer-relay" && await right.PathAsync("left") == "peer-relay";
            },
            PathTimeout,
            "alice and bob on the peer relay");
        Assert.Equal("vps", (await left.PeerAsync("right")).GetProperty("peerRelay").GetString());

        // Carol's pair keeps talking for longer than the pair needed to move (both ask every 3 s; a
        // refused relay is given up after 9 s) and stays on the TCP relay, its pings answered.
        var answered = 0;
        for (var i = 0; i < 15; i++)
        {
            answered += await left.PingAsync(farAddress) ? 1 : 0;
            Assert.NotEqual("peer-relay", await left.PathAsync("far"));
            Assert.NotEqual("peer-relay", await far.PathAsync("left"));
        }

        Assert.True(answered > 0, "carol answered none of alice's pings");
        Assert.Equal("relay", await left.PathAsync("far"));
        Assert.Equal("peer-relay", await left.PathAsync("right"));
    }

    private const string RelayPolicy = """
        {
          "tagOwners": { "tag:relay": [] },
          "acls": [
            { "action": "accept", "src": ["alice@"], "dst": ["bob@:*", "carol@:*", "tag:relay:*"] },
            { "action": "accept", "src": ["bob@"], "dst": ["tag:relay:*"] },
            { "action": "accept", "src": ["tag:relay"], "dst": ["carol@:*"] },
          ],
        }
        """;

    private static async Task<string> KeyAsync(MeshLab mesh, params string[] owner) =>
        (await mesh.AdminAsync(["authkeys", "create", "--reusable", .. owner])).StandardOutput.Trim();

    private static async Task PingBothWaysAsync(LabNode a, LabNode b)
    {
        var aAddress = (await a.AddressesAsync())[0];
        var bAddress = (await b.AddressesAsync())[0];
        await Poll.UntilAsync(_ => a.PingAsync(bAddress), PathTimeout, $"{a.Name} to ping {b.Name}");
        await Poll.UntilAsync(_ => b.PingAsync(aAddress), PathTimeout, $"{b.Name} to ping {a.Name}");
    }
}
