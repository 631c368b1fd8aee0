using System.Globalization;
using System.Text.RegularExpressions;
using Trellis.Node.LocalApi;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Issue 18, convergence: when a better path appears the pair moves within seconds, not at the next
/// 60 s re-probe. Two public dual-stack hosts on the lab's internet, so each side's candidates are
/// its own two addresses and nothing but the rule the test sets stands in the way.
/// Direct replaces the relay: UDP between the two is dropped (nftables on the left host, both
/// families) from the start, so the pair talks over the server's relay, with pings both ways, for
/// longer than the punch window; then the drop goes and both sides must take the direct path.
/// A faster direct path appears: the left host's IPv6 packets to the right one take a 100 ms detour
/// (<see cref="DelayLine"/>; the lab's kernel has no netem) and IPv4 UDP between them is dropped, so
/// the pair settles on slow IPv6; the drop goes and IPv4, clearly and consistently faster, must
/// take over (IPv6 is preferred only while IPv4 is not); then, both open and nothing changing, the
/// path must stay put (no flapping back).
/// The tests print the seconds from the lift until both directions took their final path (the
/// daemons' local API every 50 ms); the limits are safety nets for a busy machine, never measurements.
/// </summary>
public sealed partial class PathUpgradeTests(ITestOutputHelper output)
{
    private const string BlockTable = "trellis_path_block";

    private static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan MoveTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Past <c>DiscoveryBind.PunchWindow</c> (60 s): rounds that only a punch window starts have stopped by then.</summary>
    private static readonly TimeSpan OnRelayFor = TimeSpan.FromSeconds(65);

    /// <summary>Past the prompt re-probe after coming up (under 4 s), so only the lift can move the pair.</summary>
    private static readonly TimeSpan OnSlowPathFor = TimeSpan.FromSeconds(10);

    /// <summary>Longer than a slower path's trust (6.5 s) and a few heartbeats: it is proven again and judged again meanwhile.</summary>
    private static readonly TimeSpan HoldFor = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan Detour = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task A_pair_on_the_relay_for_longer_than_the_punch_window_moves_to_direct_within_seconds_of_the_path_opening()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var a = await mesh.AddNodeAsync("left");
        var b = await mesh.AddNodeAsync("right");
        await BlockUdpAsync(a, b, ipv4: true, ipv6: true);
        await a.UpAsync();
        await b.UpAsync();
        var (aAddress, bAddress) = await PingBothWaysAsync(a, b, "over the relay");
        Assert.Equal("relay", await a.PathAsync(b.Name));
        Assert.Equal("relay", await b.PathAsync(a.Name));

        await using (var traffic = Traffic.Start(a, aAddress, b, bAddress))
        {
            await HoldAsync(a, b, OnRelayFor, path => path == "relay", "the relay while UDP between them is dropped");
            await LiftAsync(a);
            await using var watch = PathWatch.Start(a, b);
            await Poll.UntilAsync(
                async _ => await a.PathAsync(b.Name) == "direct" && await b.PathAsync(a.Name) == "direct",
                MoveTimeout,
                "direct both ways after the lift");
            var settled = await watch.SettledAsync();
            output.WriteLine(watch.Describe());
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PATH-UPGRADE | relay -> direct | both direct {settled.TotalSeconds:0.0} s after the lift |"));
        }

        await PingBothWaysAsync(a, b, "after the lift");
        Assert.Equal("direct", await a.PathAsync(b.Name));
    }

    [Fact]
    public async Task A_pair_on_slow_IPv6_moves_to_IPv4_within_seconds_of_it_opening_and_then_stays_there()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var a = await mesh.AddNodeAsync("left");
        var b = await mesh.AddNodeAsync("right");
        var bV4 = b.Host.IPv4!.Address.ToString() + ":";
        var bV6 = "[" + b.Host.IPv6!.Address + "]:";
        var aV4 = a.Host.IPv4!.Address.ToString() + ":";
        var aV6 = "[" + a.Host.IPv6!.Address + "]:";
        using var detour = await DelayLine.StartAsync(a.Host, b.Host.IPv6.Address, Detour);
        await BlockUdpAsync(a, b, ipv4: true, ipv6: false);
        await a.UpAsync();
        await b.UpAsync();
        var (aAddress, bAddress) = await PingBothWaysAsync(a, b, "at the start");
        await Poll.UntilAsync(
            async _ => await EndpointAsync(a, b.Name) is { } e && e.StartsWith(bV6, StringComparison.Ordinal)
                       && await EndpointAsync(b, a.Name) is { } f && f.StartsWith(aV6, StringComparison.Ordinal),
            PathTimeout,
            "direct IPv6 both ways while IPv4 is dropped");

        await using (var traffic = Traffic.Start(a, aAddress, b, bAddress))
        {
            await HoldAsync(a, b, OnSlowPathFor, path => path.StartsWith("direct [", StringComparison.Ordinal), "direct IPv6 while IPv4 is dropped");
            var slow = await OverlayRttAsync(a, bAddress);
            await LiftAsync(a);
            await using (var watch = PathWatch.Start(a, b))
            {
                await Poll.UntilAsync(
                    async _ => await EndpointAsync(a, b.Name) is { } e && e.StartsWith(bV4, StringComparison.Ordinal)
                               && await EndpointAsync(b, a.Name) is { } f && f.StartsWith(aV4, StringComparison.Ordinal),
                    MoveTimeout,
                    "direct IPv4 both ways after the lift");
                var settled = await watch.SettledAsync();
                output.WriteLine(watch.Describe());
                var fast = await OverlayRttAsync(a, bAddress);
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"PATH-UPGRADE | slow IPv6 -> IPv4 | both on IPv4 {settled.TotalSeconds:0.0} s after the lift | overlay ping {slow} ms on IPv6, {fast} ms on IPv4 |"));
            }

            // Both open, nothing changing: every look sees the same path, while IPv6 is pinged and proven again beside it.
            await HoldAsync(a, b, HoldFor, path => path.StartsWith("direct 198.51.100.", StringComparison.Ordinal), "direct IPv4 with slow IPv6 open beside it");
        }

        Assert.StartsWith(bV4, await EndpointAsync(a, b.Name), StringComparison.Ordinal);
        Assert.True(detour.Forwarded > 0, "nothing went through the IPv6 detour");
    }

    /// <summary>Drops UDP between the two hosts, in the given families, in <paramref name="a"/>'s namespace both ways.</summary>
    private static async Task BlockUdpAsync(LabNode a, LabNode b, bool ipv4, bool ipv6)
    {
        var ns = a.Host.Namespace;
        var outRules = new List<string>();
        var inRules = new List<string>();
        if (ipv4)
        {
            outRules.Add($"ip daddr {b.Host.IPv4!.Address} meta l4proto udp drop");
            inRules.Add($"ip saddr {b.Host.IPv4!.Address} meta l4proto udp drop");
        }

        if (ipv6)
        {
            outRules.Add($"ip6 daddr {b.Host.IPv6!.Address} meta l4proto udp drop");
            inRules.Add($"ip6 saddr {b.Host.IPv6!.Address} meta l4proto udp drop");
        }

        (await ns.ExecAsync("nft", [$"add table inet {BlockTable}"], CommandOptions.Default)).EnsureSuccess();
        (await ns.ExecAsync("nft", [$"add chain inet {BlockTable} out {{ type filter hook output priority -10; {string.Join("; ", outRules)}; }}"], CommandOptions.Default)).EnsureSuccess();
        (await ns.ExecAsync("nft", [$"add chain inet {BlockTable} in {{ type filter hook input priority -10; {string.Join("; ", inRules)}; }}"], CommandOptions.Default)).EnsureSuccess();
    }

    private static async Task LiftAsync(LabNode a) =>
        (await a.Host.Namespace.ExecAsync("nft", [$"delete table inet {BlockTable}"], CommandOptions.Default)).EnsureSuccess();

    private static async Task<(string A, string B)> PingBothWaysAsync(LabNode a, LabNode b, string when)
    {
        var aAddress = (await a.AddressesAsync())[0];
        var bAddress = (await b.AddressesAsync())[0];
        await Poll.UntilAsync(_ => a.PingAsync(bAddress), PathTimeout, $"{a.Name} to ping {b.Name} {when}");
        await Poll.UntilAsync(_ => b.PingAsync(aAddress), PathTimeout, $"{b.Name} to ping {a.Name} {when}");
        return (aAddress, bAddress);
    }

    /// <summary>
    /// For <paramref name="duration"/>, reads both directions' path from the daemons' local API (about
    /// every 100 ms) and fails on the first that <paramref name="holds"/> rejects ("relay", or "direct"
    /// and the endpoint); the first direction's path must also stay one path throughout.
    /// </summary>
    private async Task HoldAsync(LabNode a, LabNode b, TimeSpan duration, Func<string, bool> holds, string what)
    {
        using var aApi = new LocalApiClient(a.Socket, TimeSpan.FromSeconds(30));
        using var bApi = new LocalApiClient(b.Socket, TimeSpan.FromSeconds(30));
        var seen = new HashSet<string>();
        var looks = 0;
        var clock = TimeProvider.System.GetTimestamp();
        while (TimeProvider.System.GetElapsedTime(clock) < duration)
        {
            foreach (var (api, to) in new[] { (aApi, b.Name), (bApi, a.Name) })
            {
                var peer = (await api.StatusAsync(CancellationToken.None)).Peers.Single(p => p.Hostname == to);
                var path = peer.Path == "direct" ? $"direct {peer.Endpoint}" : peer.Path;
                Assert.True(holds(path), $"{what}: {to} seen as {path} after {TimeProvider.System.GetElapsedTime(clock).TotalSeconds:0.0} s");
                seen.Add($"{to}: {path}");
            }

            looks++;
            await Task.Delay(Poll.Interval);
        }

        output.WriteLine($"{what}: {looks} looks over {duration.TotalSeconds:0} s saw {string.Join("; ", seen)}");
        Assert.Equal(2, seen.Count);
    }

    /// <summary>The least round trip of five pings over the overlay, as ping prints it (figures only).</summary>
    private static async Task<string> OverlayRttAsync(LabNode from, string address)
    {
        var result = await from.Host.Namespace.ExecAsync("ping", ["-c", "5", "-i", "0.2", "-q", address], CommandOptions.Default);
        var rtt = RttLine().Match(result.StandardOutput);
        return rtt.Success ? rtt.Groups[1].Value : "?";
    }

    [GeneratedRegex(@"= ([0-9.]+)/")]
    private static partial Regex RttLine();

    /// <summary>The direct endpoint FROM's status shows for PEER, or null when it is not direct.</summary>
    private static async Task<string?> EndpointAsync(LabNode from, string peer)
    {
        var p = await from.PeerAsync(peer);
        return p.GetProperty("path").GetString() == "direct" ? p.GetProperty("endpoint").GetString() : null;
    }

    /// <summary>Pings both ways every 200 ms, as a user's traffic would flow: discovery probes only active pairs so often.</summary>
    private sealed class Traffic : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        private Traffic(LabNode a, string aAddress, LabNode b, string bAddress) =>
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    await Task.WhenAll(a.PingAsync(bAddress), b.PingAsync(aAddress));
                    await Task.Delay(200, CancellationToken.None);
                }
            });

        public static Traffic Start(LabNode a, string aAddress, LabNode b, string bAddress) => new(a, aAddress, b, bAddress);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }
    }
}
