using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Convergence on real daemons: two dual-stack nodes whose IPv6 is blocked at first settle on direct
/// IPv4; once the block goes, both move to IPv6 within seconds (not at the 60 s re-probe), as
/// `trellis status --json` shows.
/// </summary>
public sealed class IPv6ConvergenceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(45);

    /// <summary>A generous safety net: on IPv4, unproven IPv6 candidates are pinged every second while traffic flows.</summary>
    private static readonly TimeSpan MoveTimeout = TimeSpan.FromSeconds(5);

    /// <summary>On IPv4 longer than the prompt re-probe after coming up lasts (under 4 s), so only the lift can move it.</summary>
    private static readonly TimeSpan SettleOnIPv4 = TimeSpan.FromSeconds(10);

    private const string BlockTable = "trellis_v6block";

    [Fact]
    public async Task A_pair_on_IPv4_while_IPv6_is_blocked_moves_to_IPv6_within_5_s_of_the_lift()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var a = await mesh.AddNodeAsync("left");
        var b = await mesh.AddNodeAsync("right");

        // The left host drops UDP over IPv6 both ways (its control and relay connections are IPv4 TCP).
        var ns = a.Host.Namespace;
        (await ns.ExecAsync("nft", [$"add table inet {BlockTable}"], CommandOptions.Default)).EnsureSuccess();
        (await ns.ExecAsync("nft", [$"add chain inet {BlockTable} out {{ type filter hook output priority -10; meta nfproto ipv6 meta l4proto udp drop; }}"], CommandOptions.Default)).EnsureSuccess();
        (await ns.ExecAsync("nft", [$"add chain inet {BlockTable} in {{ type filter hook input priority -10; meta nfproto ipv6 meta l4proto udp drop; }}"], CommandOptions.Default)).EnsureSuccess();

        await a.UpAsync();
        await b.UpAsync();
        var aAddress = (await a.AddressesAsync())[0];
        var bAddress = (await b.AddressesAsync())[0];
        await Poll.UntilAsync(_ => a.PingAsync(bAddress), PathTimeout, "left to ping right");
        await Poll.UntilAsync(
            async _ => await EndpointAsync(a, "right") is { } e && e.StartsWith("198.51.100.", StringComparison.Ordinal)
                       && await EndpointAsync(b, "left") is { } f && f.StartsWith("198.51.100.", StringComparison.Ordinal),
            PathTimeout,
            "direct IPv4 both ways while IPv6 is blocked");

        // Traffic both ways throughout, as a user's would be: discovery heartbeats only active peers.
        using var stop = new CancellationTokenSource();
        var traffic = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.WhenAll(a.PingAsync(bAddress), b.PingAsync(aAddress));
                await Task.Delay(200, CancellationToken.None);
            }
        });

        try
        {
            var onIPv4 = Stopwatch.StartNew();
            while (onIPv4.Elapsed < SettleOnIPv4)
            {
                Assert.StartsWith("198.51.100.", await EndpointAsync(a, "right"), StringComparison.Ordinal);
                await Task.Delay(Poll.Interval * 5);
            }

            (await ns.ExecAsync("nft", [$"delete table inet {BlockTable}"], CommandOptions.Default)).EnsureSuccess();
            var lifted = Stopwatch.StartNew();
            await Poll.UntilAsync(
                async _ => (await Task.WhenAll(EndpointAsync(a, "right"), EndpointAsync(b, "left")))
                    .All(e => e?.StartsWith("[2001:db8:", StringComparison.Ordinal) == true),
                MoveTimeout,
                "direct IPv6 both ways after the lift");
            output.WriteLine($"CONVERGENCE | IPv6 lifted | direct IPv6 both ways {lifted.Elapsed.TotalSeconds:0.0} s after the lift |");
        }
        finally
        {
            await stop.CancelAsync();
            await traffic;
        }

        Assert.True(await a.PingAsync(bAddress));
    }

    /// <summary>The direct endpoint FROM's status shows for PEER, or null on the relay.</summary>
    private static async Task<string?> EndpointAsync(LabNode from, string peer)
    {
        var p = (await from.StatusAsync()).GetProperty("peers").EnumerateArray().Single(x => x.GetProperty("hostname").GetString() == peer);
        return p.GetProperty("path").GetString() == "direct" && p.GetProperty("endpoint").ValueKind == JsonValueKind.String
            ? p.GetProperty("endpoint").GetString()
            : null;
    }
}
