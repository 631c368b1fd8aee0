using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Issue 18: a node on a UDP-hostile network (nftables drops UDP in its own namespace, loopback
/// included) keeps its tunnels over the relay, and the direct path comes back when UDP does. The
/// limits are safety nets for a busy machine; a user would see pings answered within seconds.
/// </summary>
public sealed class UdpCutTests(ITestOutputHelper output)
{
    private const string CutTable = "trellis_udp_cut";
    private const int IperfSeconds = 3;

    private static readonly TimeSpan RelayTimeout = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan DirectTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Drops every UDP datagram of the node's namespace in the given hooks ("input", "output").</summary>
    private static async Task CutUdpAsync(LabNode node, params string[] hooks)
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

    private static async Task DirectAgainAsync(LabNode a, LabNode b, string when)
    {
        await Poll.UntilAsync(async _ => await a.PathAsync(b.Name) == "direct", DirectTimeout, $"{a.Name}'s direct path to {b.Name} {when}");
        await Poll.UntilAsync(async _ => await b.PathAsync(a.Name) == "direct", DirectTimeout, $"{b.Name}'s direct path to {a.Name} {when}");
        await PingBothWaysAsync(a, b, RelayTimeout, when);
    }

    private static async Task OverTheRelayAsync(LabNode a, LabNode b, string when)
    {
        await Poll.UntilAsync(async _ => await a.PathAsync(b.Name) == "relay", RelayTimeout, $"{a.Name} to show the relay to {b.Name} {when}");
        await PingBothWaysAsync(a, b, RelayTimeout, when);

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
        await DirectAgainAsync(a, b, "at the start");

        await CutUdpAsync(a, "input", "output");
        await OverTheRelayAsync(a, b, "with UDP cut on one side");
        await MeshIperf.RunAsync(a, b, IperfSeconds, "over the relay", output);
        Assert.Equal("relay", await a.PathAsync(b.Name));
        await RestoreUdpAsync(a);
        await DirectAgainAsync(a, b, "after UDP returns on one side");

        await CutUdpAsync(a, "input", "output");
        await CutUdpAsync(b, "input", "output");
        await OverTheRelayAsync(a, b, "with UDP cut on both sides");
        await RestoreUdpAsync(a);
        await RestoreUdpAsync(b);
        await DirectAgainAsync(a, b, "after UDP returns on both sides");

        await CutUdpAsync(a, "input");
        await OverTheRelayAsync(a, b, "with inbound UDP cut on one side");
        await RestoreUdpAsync(a);
        await DirectAgainAsync(a, b, "after inbound UDP returns");
    }
}
