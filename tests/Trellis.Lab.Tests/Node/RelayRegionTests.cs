using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Issue 18: two relay regions, each a standalone `trellis relay` on a host of its own, not meshed.
/// Two nodes behind hard NATs (no direct path) each reach only their own region's STUN server, so
/// each is homed in a different region; they reach each other through the other's region, and when
/// one region is cut its node moves home to the other and pings go on. The limits are safety nets
/// for a busy machine; the times a user would see are written to the output.
/// </summary>
public sealed class RelayRegionTests(ITestOutputHelper output)
{
    private const string FilterTable = "trellis_regions";
    private const int First = 0;
    private const int Second = 1;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static async Task<JsonElement> SelfAsync(LabNode node) => (await node.StatusAsync()).GetProperty("self");

    private static async Task<string?> HomeAsync(LabNode node) => (await SelfAsync(node)).GetProperty("homeRelay").GetString();

    /// <summary>The relay region status says packets from <paramref name="node"/> to <paramref name="peer"/> go through; null off the relay.</summary>
    private static async Task<string?> RelayToAsync(LabNode node, LabNode peer) => (await node.PeerAsync(peer.Name)).GetProperty("relay").GetString();

    /// <summary>The router drops the site's UDP to a region's STUN server: that region never answers its netcheck (its relay, over TCP, still does).</summary>
    private static async Task BlockStunAsync(NatRouter router, NatHost relayHost)
    {
        (await router.Namespace.ExecAsync("nft", ["add", "table", "inet", FilterTable], CommandOptions.Default)).EnsureSuccess();
        (await router.Namespace.ExecAsync(
            "nft",
            [$"add chain inet {FilterTable} forward {{ type filter hook forward priority -10; ip daddr {relayHost.IPv4!.Address} udp dport {LabRelayRegions.StunPort} drop; }}"],
            CommandOptions.Default)).EnsureSuccess();
    }

    /// <summary>
    /// The relay host drops every TCP segment of its relay port, both ways: each connection stays
    /// established at both ends (they only retransmit) but nothing is forwarded, and new ones cannot
    /// open; its STUN server (UDP) keeps answering, so netcheck sees nothing wrong.
    /// </summary>
    private static async Task StallRelayAsync(NatHost relayHost)
    {
        (await relayHost.Namespace.ExecAsync("nft", ["add", "table", "inet", FilterTable], CommandOptions.Default)).EnsureSuccess();
        (await relayHost.Namespace.ExecAsync(
            "nft",
            [$"add chain inet {FilterTable} stall_in {{ type filter hook input priority -10; tcp dport {LabRelayRegions.Port} drop; }}"],
            CommandOptions.Default)).EnsureSuccess();
        (await relayHost.Namespace.ExecAsync(
            "nft",
            [$"add chain inet {FilterTable} stall_out {{ type filter hook output priority -10; tcp sport {LabRelayRegions.Port} drop; }}"],
            CommandOptions.Default)).EnsureSuccess();
    }

    private static async Task PingBothWaysAsync(LabNode a, LabNode b, string when)
    {
        var aAddress = (await a.AddressesAsync())[0];
        var bAddress = (await b.AddressesAsync())[0];
        await Poll.UntilAsync(_ => a.PingAsync(bAddress), Patience, $"{a.Name} to ping {b.Name} {when}");
        await Poll.UntilAsync(_ => b.PingAsync(aAddress), Patience, $"{b.Name} to ping {a.Name} {when}");

        // Not one lucky packet: a run of pings over the relay (ping fails only if none is answered, so a busy machine does not fail it).
        var run = await a.Host.Namespace.ExecAsync("ping", ["-c", "10", "-i", "0.2", "-W", "2", bAddress], CommandOptions.Default);
        Assert.True(run.Succeeded, $"pings {when}: {run}");
    }

    /// <summary>
    /// Two nodes behind hard NATs (no direct path, no port guessing), each reaching only its own
    /// region's STUN server, so netcheck homes left in the first region and right in the second (not
    /// the lowest id); returns them once they ping each other across the regions.
    /// </summary>
    private static async Task<(LabNode Left, LabNode Right, string R1, string R2)> HomedApartAsync(MeshLab mesh)
    {
        var regions = mesh.RelayRegions!;
        var leftRouter = await mesh.Lab.AddRouterAsync(NatKind.Hard);
        var rightRouter = await mesh.Lab.AddRouterAsync(NatKind.Hard);
        await BlockStunAsync(leftRouter, regions.Hosts[Second]);
        await BlockStunAsync(rightRouter, regions.Hosts[First]);
        var left = await mesh.AddNodeAsync("left", leftRouter);
        var right = await mesh.AddNodeAsync("right", rightRouter);
        await left.UpAsync("--no-port-guessing");
        await right.UpAsync("--no-port-guessing");
        var r1 = LabRelayRegions.Code(First);
        var r2 = LabRelayRegions.Code(Second);
        await Poll.UntilAsync(async _ => await HomeAsync(left) == r1, Patience, $"left's home relay to be {r1}");
        await Poll.UntilAsync(async _ => await HomeAsync(right) == r2, Patience, $"right's home relay to be {r2}");

        // Until a node's connection to the other's region is up, status names the region its packets take meanwhile.
        await Poll.UntilAsync(async _ => await RelayToAsync(left, right) == r2, Patience, $"left to reach right through {r2}");
        await Poll.UntilAsync(async _ => await RelayToAsync(right, left) == r1, Patience, $"right to reach left through {r1}");
        await PingBothWaysAsync(left, right, "across regions");
        return (left, right, r1, r2);
    }

    [Fact]
    public async Task Nodes_homed_in_different_regions_reach_each_other_and_a_cut_region_moves_its_node_to_the_other()
    {
        await using var mesh = await MeshLab.StartAsync(output, relayRegions: 2);
        var (left, right, r1, r2) = await HomedApartAsync(mesh);
        var toRight = await left.PeerAsync("right");
        Assert.Equal("relay", toRight.GetProperty("path").GetString());
        Assert.Equal(r2, toRight.GetProperty("relay").GetString());
        Assert.Equal(r1, await RelayToAsync(right, left));
        Assert.Contains(r2, (await SelfAsync(left)).GetProperty("relayRegions").EnumerateArray().Select(r => r.GetString()));
        var ping = (await left.RunAsync("ping", "right", "-c", "3")).EnsureSuccess();
        Assert.Contains($"via relay {r2}", ping.StandardOutput, StringComparison.Ordinal);

        // Cut the second region: right moves home to the first, and traffic goes on.
        var clock = Stopwatch.StartNew();
        await mesh.StopRelayAsync(Second);
        await Poll.UntilAsync(async _ => await HomeAsync(right) == r1, Patience, $"right's home relay to move to {r1}");
        output.WriteLine($"right moved home to {r1} {clock.Elapsed.TotalSeconds:0.0} s after {r2} was cut");
        await PingBothWaysAsync(left, right, $"after {r2} was cut");
        output.WriteLine($"pings both ways {clock.Elapsed.TotalSeconds:0.0} s after the cut");
        await Poll.UntilAsync(async _ => await RelayToAsync(left, right) == r1, Patience, $"left to see right at {r1}");
        Assert.Equal(r1, await HomeAsync(left));
        Assert.Null(left.Daemon.ExitCode);
        Assert.Null(right.Daemon.ExitCode);
    }

    [Fact]
    public async Task A_relay_that_stays_connected_but_stops_forwarding_is_left_within_seconds_and_pings_go_on_through_the_other_region()
    {
        await using var mesh = await MeshLab.StartAsync(output, relayRegions: 2);
        var (left, right, r1, r2) = await HomedApartAsync(mesh);

        // r2 black-holes its relay connections while its STUN server answers: only the relays' own
        // liveness check can see it (STUN never will, and TCP would call it connected for minutes).
        var clock = Stopwatch.StartNew();
        await StallRelayAsync(mesh.RelayRegions!.Hosts[Second]);
        await PingBothWaysAsync(left, right, $"after {r2} stopped forwarding");
        output.WriteLine($"pings both ways {clock.Elapsed.TotalSeconds:0.0} s after {r2} stopped forwarding");
        await Poll.UntilAsync(async _ => await HomeAsync(right) == r1, Patience, $"right's home relay to move to {r1}");
        output.WriteLine($"right moved home to {r1} {clock.Elapsed.TotalSeconds:0.0} s after {r2} stopped forwarding");
        await Poll.UntilAsync(async _ => await RelayToAsync(left, right) == r1, Patience, $"left to see right at {r1}");
        Assert.Null(left.Daemon.ExitCode);
        Assert.Null(right.Daemon.ExitCode);
    }
}
