using System.Globalization;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Issue 18: a node on a UDP-hostile network (nftables drops UDP in its own namespace, loopback
/// included) keeps its tunnels over the relay, and the direct path comes back when UDP does. Four
/// cuts in turn: all UDP of one side, of both sides, one side's inbound only, one side's outbound
/// only; in each, pings both ways, a run of pings and a short iperf3 over the relay, then the direct
/// path back after the restore. The test prints, per cut, the seconds from the cut until pings
/// answer both ways and from the restore until both sides show `direct` (the issue asks 5 s for
/// each); the limits are safety nets for a busy machine, never measurements.
/// </summary>
public sealed class UdpCutTests(ITestOutputHelper output)
{
    private const string CutTable = "trellis_udp_cut";

    /// <summary>Short: the point is that TCP moves over the relay in every cut, not how fast (CI time).</summary>
    private const int IperfSeconds = 2;

    private static readonly TimeSpan RelayTimeout = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan DirectTimeout = TimeSpan.FromSeconds(60);

    private static readonly string[] InAndOut = ["input", "output"];

    /// <summary>Drops every UDP datagram of the node's namespace in the given hooks ("input", "output").</summary>
    private static async Task CutUdpAsync(LabNode node, string[] hooks)
    {
        (await node.Host.Namespace.ExecAsync("nft", ["add", "table", "inet", CutTable], CommandOptions.Default)).EnsureSuccess();
        foreach (var hook in hooks)
        {
            (await node.Host.Namespace.ExecAsync(
                "nft",
                [$"add chain inet {CutTable} {hook} {{ type filter hook {hook} priority -10; meta l4proto udp drop; }}"],
                CommandOptions.Default)).EnsureSuccess();
        }
    }

    private static async Task RestoreUdpAsync(LabNode node) =>
        (await node.Host.Namespace.ExecAsync("nft", ["delete", "table", "inet", CutTable], CommandOptions.Default)).EnsureSuccess();

    private static async Task PingBothWaysAsync(LabNode a, LabNode b, TimeSpan timeout, string when)
    {
        var aAddress = (await a.AddressesAsync())[0];
        var bAddress = (await b.AddressesAsync())[0];
        await Poll.UntilAsync(_ => a.PingAsync(bAddress), timeout, $"{a.Name} to ping {b.Name} {when}");
        await Poll.UntilAsync(_ => b.PingAsync(aAddress), timeout, $"{b.Name} to ping {a.Name} {when}");
    }

    private static async Task BothDirectAsync(LabNode a, LabNode b, string when)
    {
        await Poll.UntilAsync(async _ => await a.PathAsync(b.Name) == "direct", DirectTimeout, $"{a.Name}'s direct path to {b.Name} {when}");
        await Poll.UntilAsync(async _ => await b.PathAsync(a.Name) == "direct", DirectTimeout, $"{b.Name}'s direct path to {a.Name} {when}");
    }

    private static async Task OverTheRelayAsync(LabNode a, LabNode b, string when)
    {
        await Poll.UntilAsync(async _ => await a.PathAsync(b.Name) == "relay", RelayTimeout, $"{a.Name} to show the relay to {b.Name} {when}");

        // Not one lucky packet: a run of pings, all answered, the path still the relay.
        var bAddress = (await b.AddressesAsync())[0];
        var result = await a.Host.Namespace.ExecAsync("ping", ["-c", "20", "-i", "0.2", "-W", "2", bAddress], CommandOptions.Default);
        Assert.True(result.Succeeded, $"pings over the relay {when}: {result}");
        Assert.Equal("relay", await a.PathAsync(b.Name));
    }

    [Fact]
    public async Task With_UDP_cut_on_one_side_both_sides_or_one_direction_traffic_flows_over_the_relay_and_the_direct_path_returns()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var a = await mesh.AddNodeAsync("left");
        var b = await mesh.AddNodeAsync("right");
        await a.UpAsync();
        await b.UpAsync();
        await PingBothWaysAsync(a, b, RelayTimeout, "at the start");
        await BothDirectAsync(a, b, "at the start");
        await PingBothWaysAsync(a, b, RelayTimeout, "at the start");

        (string Name, (LabNode Node, string[] Hooks)[] Cuts)[] phases =
        [
            ("UDP cut on one side", [(a, InAndOut)]),
            ("UDP cut on both sides", [(a, InAndOut), (b, InAndOut)]),
            ("inbound UDP cut on one side", [(a, ["input"])]),
            ("outbound UDP cut on one side", [(a, ["output"])]),
        ];

        var times = new List<string>();
        foreach (var (name, cuts) in phases)
        {
            var (pings, direct) = await CutAndRestoreAsync(a, b, name, cuts);
            var line = string.Create(
                CultureInfo.InvariantCulture,
                $"UDP-CUT | {name} | pings both ways {pings:0.0} s after the cut | both direct {direct:0.0} s after the restore");
            output.WriteLine(line);
            times.Add(line);
        }

        output.WriteLine(string.Join('\n', times));
    }

    /// <summary>One cut and its restore; the seconds until pings answered both ways after the cut and until both sides showed `direct` after the restore.</summary>
    private async Task<(double Pings, double Direct)> CutAndRestoreAsync(LabNode a, LabNode b, string name, (LabNode Node, string[] Hooks)[] cuts)
    {
        var aAddress = (await a.AddressesAsync())[0];
        var bAddress = (await b.AddressesAsync())[0];
        var when = $"with {name}";

        var cutAt = DateTimeOffset.UtcNow;
        foreach (var (node, hooks) in cuts)
        {
            await CutUdpAsync(node, hooks);
        }

        double pings;
        await using (var aToB = ReplyClock.Start(a, bAddress))
        await using (var bToA = ReplyClock.Start(b, aAddress))
        {
            var there = await aToB.FirstReplyAsync(cutAt, RelayTimeout, $"a reply from {b.Name} to {a.Name} {when}");
            var back = await bToA.FirstReplyAsync(cutAt, RelayTimeout, $"a reply from {a.Name} to {b.Name} {when}");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{when}: first reply {a.Name} -> {b.Name} {there:0.00} s, {b.Name} -> {a.Name} {back:0.00} s after the cut"));
            pings = Math.Max(there, back);
        }

        await PingBothWaysAsync(a, b, RelayTimeout, when);
        await OverTheRelayAsync(a, b, when);
        await MeshIperf.RunAsync(a, b, IperfSeconds, $"over the relay {when}", output);
        Assert.Equal("relay", await a.PathAsync(b.Name));

        foreach (var node in cuts.Select(c => c.Node).Distinct())
        {
            await RestoreUdpAsync(node);
        }

        TimeSpan direct;
        await using (var watch = PathWatch.Start(a, b))
        {
            await BothDirectAsync(a, b, $"after {name} is restored");
            direct = await watch.SettledAsync();
            output.WriteLine($"after {name} is restored: {watch.Describe()}");
        }

        await PingBothWaysAsync(a, b, RelayTimeout, $"after {name} is restored");
        return (pings, direct.TotalSeconds);
    }
}
