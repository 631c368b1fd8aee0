using System.Net;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Issue 13, exit nodes: a client behind a NAT (dual-stack: IPv4 translated, IPv6 its own) sends its
/// internet traffic through an exit node on the internet, and a server there logs whose address it sees.
/// </summary>
public sealed class ExitNodeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan MeshTimeout = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task A_client_reaches_the_internet_over_IPv4_and_IPv6_with_the_exit_nodes_address_and_its_routes_are_restored_exactly()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var exit = await mesh.AddNodeAsync("exit");
        var router = await mesh.Lab.AddRouterAsync(NatKind.Easy, new NatRouterOptions { IPv6 = true });
        var client = await mesh.AddNodeAsync("client", router);
        var lanNeighbour = await router.AddHostAsync();
        var internet = await mesh.Lab.AddPublicHostAsync();
        await using var echo = SourceEcho.Start(internet.Namespace);
        var webIPv4 = internet.IPv4!.Address;
        var webIPv6 = internet.IPv6!.Address;

        // Strict reverse-path filtering (RHEL's default): the underlay's replies must still come in.
        (await client.Host.Namespace.ExecAsync("sysctl", ["-qw", "net.ipv4.conf.all.rp_filter=1"], CommandOptions.Default)).EnsureSuccess();
        // A new interface's IPv6 addresses get their local routes only once duplicate address detection
        // ends, which on a busy machine can be after the first snapshot: wait for it, or the comparison
        // after `down` would see a route that merely arrived late.
        await Poll.UntilAsync(
            async _ => string.IsNullOrWhiteSpace((await client.Host.Namespace.IpAsync("-6", "addr", "show", "tentative")).StandardOutput),
            MeshTimeout,
            "the client's IPv6 addresses to finish duplicate address detection");
        var beforeUp = await RoutingAsync(client);
        await exit.UpAsync("--advertise-exit-node");
        await client.UpAsync();
        var upWithoutExit = await RoutingAsync(client);

        // Without an exit node: the NAT's address over IPv4, the client's own over IPv6.
        Assert.Equal(router.PublicIPv4!.ToString(), await echo.SeenFromAsync(client.Host.Namespace, webIPv4));
        Assert.Equal(client.Host.IPv6!.Address.ToString(), await echo.SeenFromAsync(client.Host.Namespace, webIPv6));

        // Offered but not approved: refused, and nothing changes.
        var refused = await client.RunAsync("set", "--exit-node", "exit");
        Assert.False(refused.Succeeded, $"an unapproved exit node is refused: {refused}");
        Assert.Contains("exit is not an exit node", refused.StandardError + refused.StandardOutput, StringComparison.Ordinal);
        var unknown = await client.RunAsync("set", "--exit-node", "nosuchnode");
        Assert.False(unknown.Succeeded, $"an unknown exit node is refused: {unknown}");
        Assert.Contains("no peer named 'nosuchnode'", unknown.StandardError + unknown.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(upWithoutExit, await RoutingAsync(client));

        await mesh.AdminAsync("routes", "approve", "exit", "0.0.0.0/0", "::/0");
        await Poll.UntilAsync(async _ => (await client.RunAsync("set", "--exit-node", "exit")).Succeeded, MeshTimeout, "the client to accept the approved exit node");

        var exitIPv4 = exit.Host.IPv4!.Address.ToString();
        var exitIPv6 = exit.Host.IPv6!.Address.ToString();
        await Poll.UntilAsync(async _ => await echo.SeenFromAsync(client.Host.Namespace, webIPv4) == exitIPv4, MeshTimeout, "the web server to see the client over IPv4 as the exit node");
        await Poll.UntilAsync(async _ => await echo.SeenFromAsync(client.Host.Namespace, webIPv6) == exitIPv6, MeshTimeout, "the web server to see the client over IPv6 as the exit node");
        var status = await client.StatusAsync();
        var exitStatus = status.GetProperty("self").GetProperty("exitNode");
        Assert.Equal("exit", exitStatus.GetProperty("hostname").GetString());
        Assert.True(exitStatus.GetProperty("online").GetBoolean());

        // The LAN goes through the exit node too (which cannot reach it), unless LAN access is allowed.
        var neighbour = lanNeighbour.IPv4!.Address.ToString();
        Assert.False(await client.PingAsync(neighbour), "without LAN access the LAN neighbour is reached only through the exit node, which has no way to it");
        (await client.RunAsync("set", "--exit-node-allow-lan-access")).EnsureSuccess();
        await Poll.UntilAsync(_ => client.PingAsync(neighbour), MeshTimeout, "the client to reach its LAN neighbour with LAN access allowed");
        Assert.Equal(exitIPv4, await echo.SeenFromAsync(client.Host.Namespace, webIPv4));

        // Off again: exactly the routes and rules of before, and the NAT's address again.
        (await client.RunAsync("set", "--exit-node=", "--exit-node-allow-lan-access=false")).EnsureSuccess();
        Assert.Equal(upWithoutExit, await RoutingAsync(client));
        Assert.Equal(router.PublicIPv4!.ToString(), await echo.SeenFromAsync(client.Host.Namespace, webIPv4));

        // On, then down: nothing of Trellis's is left.
        (await client.RunAsync("set", "--exit-node", "exit")).EnsureSuccess();
        await Poll.UntilAsync(async _ => await echo.SeenFromAsync(client.Host.Namespace, webIPv4) == exitIPv4, MeshTimeout, "the exit node in use again");

        // The exit node goes away (its daemon killed, as by a crash or power loss of the process): status
        // says so, and internet traffic is dropped rather than leaking out with the client's own addresses.
        await exit.Daemon.StopAsync(UnixSignal.Kill);
        await Poll.UntilAsync(
            async _ => (await client.StatusAsync()).GetProperty("self").GetProperty("exitNode") is var e && !e.GetProperty("online").GetBoolean(),
            MeshTimeout,
            "the client's status to show the exit node offline");
        var offline = (await client.StatusAsync()).GetProperty("self").GetProperty("exitNode");
        Assert.Contains("exit is offline", offline.GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.Null(await echo.SeenFromAsync(client.Host.Namespace, webIPv4));
        Assert.Null(await echo.SeenFromAsync(client.Host.Namespace, webIPv6));

        // Back (a restarted daemon picks up where it was, after the crash left its routes and rules): used again.
        await exit.StartDaemonAsync();
        await Poll.UntilAsync(async _ => await echo.SeenFromAsync(client.Host.Namespace, webIPv4) == exitIPv4, MeshTimeout, "the exit node in use after it came back");
        await Poll.UntilAsync(async _ => await echo.SeenFromAsync(client.Host.Namespace, webIPv6) == exitIPv6, MeshTimeout, "the exit node in use over IPv6 after it came back");
        (await client.RunAsync("down")).EnsureSuccess();
        Assert.Equal(WithoutTunLinkRoutes(beforeUp), WithoutTunLinkRoutes(await RoutingAsync(client)));
        Assert.Equal(router.PublicIPv4!.ToString(), await echo.SeenFromAsync(client.Host.Namespace, webIPv4));
    }

    /// <summary>
    /// Without the kernel's own routes of the TUN in the main and local tables (`down` keeps the
    /// interface for a quick `up`, so its link-local and multicast routes stay): every rule, every
    /// other route, and everything in the exit node's table is still compared.
    /// </summary>
    private static string WithoutTunLinkRoutes(string routing) =>
        string.Join('\n', routing.Split('\n').Where(line => !line.Contains("dev trellis0", StringComparison.Ordinal) || line.Contains("table 7472", StringComparison.Ordinal)));

    /// <summary>`ip rule` and `ip route show table all` of both families, the nftables tables and src_valid_mark: what the exit node must leave as it found.</summary>
    private static async Task<string> RoutingAsync(LabNode node)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine((await node.Host.Namespace.ExecAsync("nft", ["list", "tables"], CommandOptions.Default)).EnsureSuccess().StandardOutput);
        text.AppendLine((await node.Host.Namespace.ExecAsync("sysctl", ["net.ipv4.conf.all.src_valid_mark"], CommandOptions.Default)).EnsureSuccess().StandardOutput);
        string[][] commands = [["-4", "rule"], ["-6", "rule"], ["-4", "route", "show", "table", "all"], ["-6", "route", "show", "table", "all"]];
        foreach (var command in commands)
        {
            text.AppendLine((await node.Host.Namespace.IpAsync(command)).EnsureSuccess().StandardOutput);
        }

        return text.ToString();
    }
}
