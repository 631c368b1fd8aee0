using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Issue 18, as a new user met it: an office node advertises its LAN, a home node accepts routes.
/// The office announces its LAN address as a candidate endpoint, which home routes into its tunnel;
/// before the fix both ends proved a "direct path" through the tunnel itself (home to the office's
/// LAN address, the office to home's overlay address) and every packet looped.
/// </summary>
public sealed class SubnetRouteLoopTests(ITestOutputHelper output)
{
    private static readonly TimeSpan MeshTimeout = TimeSpan.FromSeconds(45);

    /// <summary>Sustained traffic: the loop formed within seconds of the route before the fix (the issue saw it after a minute).</summary>
    private const int PingSeconds = 90;

    /// <summary>How long ping waits for the last replies: a safety net for a busy machine, not a measurement.</summary>
    private const int PingLingerSeconds = 10;

    private const string OfficeLan = "10.99.0.0/24";
    private const string LanHost = "10.99.0.10";

    // What home routes into its tunnel: the overlay (IPv4 and the ULA space the IPv6 overlay is in) and the accepted route.
    private static readonly IPNetwork[] InsideTunnel = [IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse(OfficeLan)];

    [Fact]
    public async Task Home_reaches_the_office_LAN_over_the_accepted_route_and_no_path_ever_runs_through_the_tunnel()
    {
        await using var mesh = await MeshLab.StartAsync(output);

        // Hard NATs on both sides: no real direct path exists, so a "direct" path could only be one through the tunnel.
        var office = await mesh.AddNodeAsync("office", await mesh.Lab.AddRouterAsync(NatKind.Hard));
        var home = await mesh.AddNodeAsync("home", await mesh.Lab.AddRouterAsync(NatKind.Hard));

        await using var lanHost = await NetNamespace.CreateAsync();
        await using var lan = await VethLink.CreateAsync(
            office.Host.Namespace, lanHost, LabAddress.Parse("10.99.0.1/24"), null, LabAddress.Parse(LanHost + "/24"), null);
        await lanHost.IpAsync("route", "add", "default", "via", "10.99.0.1");

        await office.UpAsync("--advertise-routes", OfficeLan);
        await home.UpAsync("--accept-routes");
        await mesh.AdminAsync("routes", "approve", "office", OfficeLan);
        await Poll.UntilAsync(_ => home.PingAsync(LanHost), MeshTimeout, "home to reach the office's LAN host through the approved route");
        var officeAddress = (await office.AddressesAsync())[0];
        await Poll.UntilAsync(_ => home.PingAsync(officeAddress), MeshTimeout, "home to reach the office at its overlay address");

        var pings = home.Host.Namespace.ExecAsync(
            "ping",
            ["-c", PingSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", "1", "-W", PingLingerSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), LanHost],
            new CommandOptions { Timeout = TimeSpan.FromSeconds(PingSeconds + PingLingerSeconds + 30) });
        while (!pings.IsCompleted)
        {
            await AssertNoPathInsideTunnelAsync(home, "office");
            await AssertNoPathInsideTunnelAsync(office, "home");
            await Task.WhenAny(pings, Task.Delay(TimeSpan.FromSeconds(2)));
        }

        var result = await pings;
        output.WriteLine(result.StandardOutput);
        Assert.True(result.Succeeded, $"every ping from home to the office's LAN answered: {result}");
        Assert.Contains($"{PingSeconds} received", result.StandardOutput, StringComparison.Ordinal);
    }

    private static async Task AssertNoPathInsideTunnelAsync(LabNode node, string peer)
    {
        var status = (await node.StatusAsync()).GetProperty("peers").EnumerateArray().Single(p => p.GetProperty("hostname").GetString() == peer);
        if (status.GetProperty("endpoint") is { ValueKind: JsonValueKind.String } endpoint
            && IPEndPoint.TryParse(endpoint.GetString()!, out var direct))
        {
            Assert.False(
                InsideTunnel.Any(p => p.Contains(direct.Address)),
                $"{node.Name} shows a direct path to {peer} at {direct}, which it reaches only through the tunnel itself");
        }
    }
}
