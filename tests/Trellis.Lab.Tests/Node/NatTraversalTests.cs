using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Devices on the lab's kinds of network: where the NATs allow, they find a direct path (hole punching
/// through both, IPv6 preferred), else traffic goes through the server's relay; either way the tunnel
/// works from the first packets. The path is read from the status `trellis status --json` prints, as a user would (from the daemon's socket: see DaemonStatus).
/// </summary>
public sealed class NatTraversalTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(45);

    /// <summary>A site: "public", or a NAT kind; "+v6" adds a global IPv6 /64 behind a stateful firewall, "+pm" a gateway offering NAT-PMP/PCP (miniupnpd).</summary>
    private static async Task<LabNode> NodeAtAsync(MeshLab mesh, string name, string site)
    {
        if (site == "public")
        {
            return await mesh.AddNodeAsync(name);
        }

        var kind = Enum.Parse<NatKind>(site.Split('+')[0], ignoreCase: true);
        var router = await mesh.Lab.AddRouterAsync(kind, new NatRouterOptions
        {
            IPv6 = site.Contains("+v6", StringComparison.Ordinal),
            PortMapping = site.Contains("+pm", StringComparison.Ordinal),
        });
        return await mesh.AddNodeAsync(name, router);
    }

    private static async Task PingBothWaysAsync(LabNode a, LabNode b)
    {
        var aAddress = (await a.AddressesAsync())[0];
        var bAddress = (await b.AddressesAsync())[0];
        await Poll.UntilAsync(_ => a.PingAsync(bAddress), PathTimeout, $"{a.Name} to ping {b.Name}");
        await Poll.UntilAsync(_ => b.PingAsync(aAddress), PathTimeout, $"{b.Name} to ping {a.Name}");
    }

    /// <param name="endpoint">How the direct endpoint in use starts: the other side's public IPv4, or a global IPv6 address.</param>
    [Theory]
    [InlineData("public", "public", "direct", "[2001:db8:")] // both dual-stack: IPv6 wins
    [InlineData("easy", "easy", "direct", "198.51.100.")]
    [InlineData("easy", "cgnat", "direct", "198.51.100.")]
    [InlineData("public", "hard", "direct", "198.51.100.")]
    // easy / hard: PortGuessingTests (direct with port guessing, the relay without).
    [InlineData("hard", "hard", "relay", null)]
    [InlineData("hard+pm", "hard", "direct", "198.51.100.")]
    [InlineData("hard+v6", "hard+v6", "direct", "[2001:db8:")]
    [InlineData("easy+v6", "easy+v6", "direct", "[2001:db8:")]
    public async Task Two_nodes_reach_each_other_over_the_path_their_networks_allow(string left, string right, string path, string? endpoint)
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var a = await NodeAtAsync(mesh, "left", left);
        var b = await NodeAtAsync(mesh, "right", right);
        var clock = Stopwatch.StartNew();
        await a.UpAsync();
        await b.UpAsync();
        await using var watch = PathWatch.Start(a, b);

        await PingBothWaysAsync(a, b);
        var firstPacket = clock.Elapsed;
        // The final path: a direct IPv4 path that answered first is replaced by IPv6 once proven.
        await Poll.UntilAsync(
            async _ => await a.PeerAsync("right") is var p && p.GetProperty("path").GetString() == path &&
                       (endpoint is null || p.GetProperty("endpoint").GetString()?.StartsWith(endpoint, StringComparison.Ordinal) == true),
            PathTimeout,
            $"left's path to right to be {path}{(endpoint is null ? "" : " via " + endpoint)}");
        var onPath = clock.Elapsed;
        var settled = await watch.SettledAsync();
        output.WriteLine($"NAT-MATRIX | {left} / {right} | {path} | first packet {firstPacket.TotalSeconds:0.0} s | {path} {onPath.TotalSeconds:0.0} s | settled {settled.TotalSeconds:0.0} s after both up | {watch.Describe()}");

        var peer = await a.PeerAsync("right");
        if (endpoint is not null)
        {
            Assert.StartsWith(endpoint, peer.GetProperty("endpoint").GetString(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal("default", peer.GetProperty("relay").GetString());
        }

        await PingBothWaysAsync(a, b);

        // `trellis ping` says which path answered first (with both families direct, either may; on a
        // busy machine the relay's answer may come first) and stops at the first direct answer, so a
        // longer count costs nothing when the direct path is quick and leaves room when it is not.
        var ping = (await a.RunAsync("ping", "right", "-c", endpoint is null ? "3" : "10")).EnsureSuccess();
        Assert.Matches(
            endpoint is null ? "via relay default" : @"^pong from right \(100\.64\.[0-9.]+\) via (198\.51\.100\.|\[2001:db8:)",
            ping.StandardOutput.TrimEnd().Split('\n')[^1]);
    }

    [Fact]
    public async Task An_IPv4_only_node_and_an_IPv6_only_node_reach_each_other_through_the_relay()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var v4 = await NodeAtAsync(mesh, "left", "easy");
        var v6 = await NodeAtAsync(mesh, "right", "ipv6firewall");
        Assert.Null(v4.Host.IPv6);
        Assert.Null(v6.Host.IPv4);
        var clock = Stopwatch.StartNew();
        await v4.UpAsync();
        await v6.UpAsync();
        await using var watch = PathWatch.Start(v4, v6);

        await PingBothWaysAsync(v4, v6);
        var firstPacket = clock.Elapsed;
        await Poll.UntilAsync(async _ => (await v4.PeerAsync("right")).GetProperty("path").GetString() == "relay", PathTimeout, "the relay path");
        var onPath = clock.Elapsed;
        var settled = await watch.SettledAsync();
        output.WriteLine($"NAT-MATRIX | IPv4-only / IPv6-only | relay | first packet {firstPacket.TotalSeconds:0.0} s | relay {onPath.TotalSeconds:0.0} s | settled {settled.TotalSeconds:0.0} s after both up | {watch.Describe()}");
        Assert.Equal("relay", (await v6.PeerAsync("left")).GetProperty("path").GetString());
        var v6Address = (await v6.AddressesAsync())[1];
        await Poll.UntilAsync(_ => v4.PingAsync(v6Address), PathTimeout, "the IPv4-only node to reach the IPv6-only one at its IPv6 overlay address");
    }

    [Fact]
    public async Task When_a_nodes_underlay_addresses_change_the_direct_path_reforms_without_a_restart()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var a = await mesh.AddNodeAsync("left");
        var b = await mesh.AddNodeAsync("right");
        await a.UpAsync();
        await b.UpAsync();
        await PingBothWaysAsync(a, b);
        await Poll.UntilAsync(async _ => (await a.PeerAsync("right")).GetProperty("path").GetString() == "direct", PathTimeout, "a direct path first");

        // The right node moves: new addresses on its interface, the old ones gone (new first, so its routes stay).
        var ns = b.Host.Namespace;
        await ns.IpAsync("addr", "add", "198.51.100.200/24", "dev", NatHost.InterfaceName);
        await ns.IpAsync("-6", "addr", "add", "2001:db8::200/64", "dev", NatHost.InterfaceName, "nodad");
        await ns.IpAsync("addr", "del", b.Host.IPv4!.ToString(), "dev", NatHost.InterfaceName);
        await ns.IpAsync("-6", "addr", "del", b.Host.IPv6!.ToString(), "dev", NatHost.InterfaceName);

        await Poll.UntilAsync(
            async _ => (await a.PeerAsync("right")) is var p && p.GetProperty("path").GetString() == "direct" &&
                       p.GetProperty("endpoint").GetString() is { } e && (e.StartsWith("[2001:db8::200]:", StringComparison.Ordinal) || e.StartsWith("198.51.100.200:", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60),
            "left's direct path to follow right to its new address");
        await PingBothWaysAsync(a, b);
        Assert.Null(b.Daemon.ExitCode);
    }

    [Fact]
    public async Task Two_nodes_behind_one_NAT_talk_over_their_LAN_addresses()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var router = await mesh.Lab.AddRouterAsync(NatKind.Easy);
        var a = await mesh.AddNodeAsync("left", router);
        var b = await mesh.AddNodeAsync("right", router);
        var clock = Stopwatch.StartNew();
        await a.UpAsync();
        await b.UpAsync();
        await using var watch = PathWatch.Start(a, b);

        await PingBothWaysAsync(a, b);
        var firstPacket = clock.Elapsed;
        await Poll.UntilAsync(async _ => (await a.PeerAsync("right")).GetProperty("path").GetString() == "direct", PathTimeout, "a direct path");
        var onPath = clock.Elapsed;
        var settled = await watch.SettledAsync();
        output.WriteLine($"NAT-MATRIX | same LAN | direct | first packet {firstPacket.TotalSeconds:0.0} s | direct {onPath.TotalSeconds:0.0} s | settled {settled.TotalSeconds:0.0} s after both up | {watch.Describe()}");
        var used = (await a.PeerAsync("right")).GetProperty("endpoint").GetString();
        Assert.StartsWith(b.Host.IPv4!.Address + ":", used, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_direct_path_cut_mid_flow_falls_back_to_the_relay_and_returns_when_restored()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var leftRouter = await mesh.Lab.AddRouterAsync(NatKind.Easy);
        var rightRouter = await mesh.Lab.AddRouterAsync(NatKind.Easy);
        var a = await mesh.AddNodeAsync("left", leftRouter);
        var b = await mesh.AddNodeAsync("right", rightRouter);
        await a.UpAsync();
        await b.UpAsync();
        await PingBothWaysAsync(a, b);
        await Poll.UntilAsync(async _ => (await a.PeerAsync("right")).GetProperty("path").GetString() == "direct", PathTimeout, "a direct path first");

        // Cut: the left router drops everything between the two public addresses (the relay stays reachable).
        var other = rightRouter.PublicIPv4!.ToString();
        await leftRouter.Namespace.ExecAsync("nft", ["add table inet trellis_cut"], CommandOptions.Default);
        (await leftRouter.Namespace.ExecAsync("nft", [$"add chain inet trellis_cut forward {{ type filter hook forward priority -10; ip daddr {other} drop; ip saddr {other} drop; }}"], CommandOptions.Default)).EnsureSuccess();
        var bAddress = (await b.AddressesAsync())[0];
        await Poll.UntilAsync(async _ => (await a.PeerAsync("right")).GetProperty("path").GetString() == "relay", PathTimeout, "the fall back to the relay");
        await Poll.UntilAsync(_ => a.PingAsync(bAddress), PathTimeout, "traffic through the relay after the cut");

        (await leftRouter.Namespace.ExecAsync("nft", ["delete table inet trellis_cut"], CommandOptions.Default)).EnsureSuccess();
        await Poll.UntilAsync(async _ => (await a.PeerAsync("right")).GetProperty("path").GetString() == "direct", TimeSpan.FromSeconds(90), "the return to the direct path");
        Assert.True(await a.PingAsync(bAddress));
    }
}
