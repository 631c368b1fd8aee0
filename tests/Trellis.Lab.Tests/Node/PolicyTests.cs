using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Issue 12's acceptance with real daemons: users alice (group:eng) and bob, a tag:server and a tag:db
/// node, a subnet behind the db node. Real TCP connects and pings show every granted pair connecting
/// and every other timing out, in both directions; each node's status lists only the peers it may
/// reach or be reached by; a policy change reaches running nodes without restarts.
/// </summary>
public sealed class PolicyTests(ITestOutputHelper output)
{
    private static readonly TimeSpan MeshTimeout = TimeSpan.FromSeconds(45);

    /// <summary>How long a refused connect is given: far longer than a tunnel round trip, so a timeout means refused.</summary>
    private const int RefusedSeconds = 3;

    private const string Lan = "192.168.78.0/24";
    private const string LanHost = "192.168.78.10";

    // Engineers reach the servers on ssh and https and ping them; servers reach the database; everyone
    // reaches their own devices; engineers ping the database's LAN. {0} and {1}: bob's rule and test.
    private const string PolicyTemplate = """
        // The lab's policy (HuJSON: comments and trailing commas)
        {{
          "groups": {{ "group:eng": ["alice@"] }},
          "tagOwners": {{ "tag:server": ["group:eng"], "tag:db": ["group:eng"] }},
          "acls": [
            {{ "action": "accept", "src": ["group:eng"], "dst": ["tag:server:22,443"] }},
            {{ "action": "accept", "src": ["group:eng"], "proto": "icmp", "dst": ["tag:server:*", "192.168.78.0/24:*"] }},
            {{ "action": "accept", "src": ["tag:server"], "dst": ["tag:db:5432"] }},
            {{ "action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"] }},
            {0}
          ],
          "autoApprovers": {{ "routes": {{ "192.168.78.0/24": ["tag:db"] }} }},
          "tests": [
            {{ "src": "alice@", "accept": ["tag:server:22", "tag:server:443"], "deny": ["tag:server:8080", "tag:db:5432"] }},
            {{ "src": "bob@", "{1}": ["tag:server:22"] }},
          ],
        }}
        """;

    private static readonly string PolicyV1 = string.Format(CultureInfo.InvariantCulture, PolicyTemplate, "", "deny");

    // Bob may now ssh to the servers.
    private static readonly string PolicyV2 = string.Format(
        CultureInfo.InvariantCulture, PolicyTemplate, """{ "action": "accept", "src": ["bob@"], "dst": ["tag:server:22"] },""", "accept");

    [Fact]
    public async Task Granted_pairs_connect_others_time_out_peers_are_hidden_and_a_change_applies_without_restarts()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        await mesh.AdminAsync("users", "create", "alice");
        await mesh.AdminAsync("users", "create", "bob");
        await SetPolicyAsync(mesh, PolicyV1);

        var aliceKey = await KeyAsync(mesh, "--user", "alice");
        var bobKey = await KeyAsync(mesh, "--user", "bob");
        var serverKey = await KeyAsync(mesh, "--tags", "tag:server");
        var dbKey = await KeyAsync(mesh, "--tags", "tag:db");

        var laptop = await mesh.AddNodeAsync("alice-laptop");
        var desktop = await mesh.AddNodeAsync("alice-desktop");
        var bob = await mesh.AddNodeAsync("bob-laptop");
        var server = await mesh.AddNodeAsync("server");
        var db = await mesh.AddNodeAsync("db");

        await using var lanHost = await NetNamespace.CreateAsync();
        await using var lan = await VethLink.CreateAsync(
            db.Host.Namespace, lanHost, LabAddress.Parse("192.168.78.1/24"), null, LabAddress.Parse(LanHost + "/24"), null);
        await lanHost.IpAsync("route", "add", "default", "via", "192.168.78.1");

        await laptop.UpWithKeyAsync(aliceKey, "--accept-routes");
        await desktop.UpWithKeyAsync(aliceKey);
        await bob.UpWithKeyAsync(bobKey, "--accept-routes");
        await server.UpWithKeyAsync(serverKey, "--accept-routes");
        await db.UpWithKeyAsync(dbKey, "--advertise-routes", Lan);

        // Each node sees only the peers it may reach or that may reach it (alice's devices see db through its LAN).
        await PeersAreAsync(laptop, "alice-desktop", "db", "server");
        await PeersAreAsync(desktop, "alice-laptop", "db", "server");
        await PeersAreAsync(bob);
        await PeersAreAsync(server, "alice-desktop", "alice-laptop", "db");
        await PeersAreAsync(db, "alice-desktop", "alice-laptop", "server");

        foreach (var (node, port) in new[] { (server, 22), (server, 443), (server, 8080), (db, 5432), (desktop, 22), (laptop, 22) })
        {
            await ListenAsync(node, port);
        }

        var serverAddresses = await server.AddressesAsync();
        var dbAddress = (await db.AddressesAsync())[0];
        var laptopAddress = (await laptop.AddressesAsync())[0];
        var desktopAddress = (await desktop.AddressesAsync())[0];

        // Granted, and the replies pass back through the initiator's filter.
        await ConnectsAsync(laptop, serverAddresses[0], 22);
        await ConnectsAsync(laptop, serverAddresses[1], 22); // IPv6
        await ConnectsAsync(laptop, serverAddresses[0], 443);
        await Poll.UntilAsync(_ => laptop.PingAsync(serverAddresses[0]), MeshTimeout, "alice-laptop to ping the server");
        await ConnectsAsync(server, dbAddress, 5432);
        await ConnectsAsync(laptop, desktopAddress, 22); // autogroup:self
        await Poll.UntilAsync(_ => laptop.PingAsync(LanHost), MeshTimeout, "alice-laptop to ping the db's LAN, a route auto-approved by the policy");

        // Refused over working tunnels: the other port, the other direction, the other protocol.
        await RefusedAsync(laptop, serverAddresses[0], 8080);
        await RefusedAsync(server, laptopAddress, 22);
        Assert.False(await server.PingAsync(laptopAddress), "the server may not ping alice-laptop");
        await RefusedAsync(db, serverAddresses[0], 22);
        await RefusedAsync(desktop, serverAddresses[0], 8080);
        Assert.False(await server.PingAsync(LanHost), "the server may not reach the db's LAN: it is granted to group:eng only");

        await RefusedAsync(laptop, dbAddress, 5432); // a peer through its route, not on its own port

        // Refused where no peer is even known.
        await RefusedAsync(bob, serverAddresses[0], 22);
        Assert.False(await bob.PingAsync(LanHost), "bob may not reach the db's LAN");

        Assert.True((await laptop.StatusAsync()).GetProperty("droppedByPolicy").GetInt64() > 0, "alice-laptop counts the server's refused connect");
        Assert.True((await server.StatusAsync()).GetProperty("droppedByPolicy").GetInt64() > 0, "the server counts alice-laptop's refused connect");

        // A change reaches the running nodes: bob may now ssh to the server.
        var changed = Stopwatch.StartNew();
        await SetPolicyAsync(mesh, PolicyV2);
        await ConnectsAsync(bob, serverAddresses[0], 22);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"policy change to bob's first connect: {changed.Elapsed.TotalSeconds:0.0} s"));
        await PeersAreAsync(bob, "server");
        await RefusedAsync(bob, serverAddresses[0], 443);
        Assert.All(new[] { laptop, desktop, bob, server, db }, n => Assert.Null(n.Daemon.ExitCode));
    }

    private static async Task SetPolicyAsync(MeshLab mesh, string policy)
    {
        var file = Path.Combine(mesh.ServerDataDirectory, "..", "policy.hujson");
        await File.WriteAllTextAsync(file, policy);
        await mesh.AdminAsync("policy", "set", file);
    }

    private static async Task<string> KeyAsync(MeshLab mesh, params string[] owner) =>
        (await mesh.AdminAsync(["authkeys", "create", "--reusable", .. owner])).StandardOutput.Trim();

    private static Task PeersAreAsync(LabNode node, params string[] expected) =>
        Poll.UntilAsync(
            async _ => (await node.StatusAsync()).GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("hostname").GetString()!).Order().SequenceEqual(expected),
            MeshTimeout,
            $"{node.Name}'s peers to be exactly [{string.Join(", ", expected)}]");

    private static async Task ListenAsync(LabNode node, int port)
    {
        var portText = port.ToString(CultureInfo.InvariantCulture);
        var listener = node.Host.Namespace.StartProcess("iperf3", ["-s", "-p", portText]);
        await Poll.UntilAsync(
            async _ =>
            {
                Assert.False(listener.HasExited, $"iperf3 on {node.Name}:{port} exited: {listener.Output}");
                var listening = await node.Host.Namespace.ExecAsync("ss", ["-Hltn", $"sport = :{portText}"], CommandOptions.Default);
                return listening.StandardOutput.Contains(portText, StringComparison.Ordinal);
            },
            MeshTimeout,
            $"a listener on {node.Name}:{port}");
    }

    private static Task<CommandResult> TryConnectAsync(LabNode from, string address, int port) =>
        from.Host.Namespace.ExecAsync(
            "timeout",
            [RefusedSeconds.ToString(CultureInfo.InvariantCulture), "bash", "-c", $"exec 3<>/dev/tcp/{address}/{port}"],
            CommandOptions.Default);

    private static Task ConnectsAsync(LabNode from, string address, int port) =>
        Poll.UntilAsync(async _ => (await TryConnectAsync(from, address, port)).Succeeded, MeshTimeout, $"{from.Name} to connect to {address}:{port}");

    private static async Task RefusedAsync(LabNode from, string address, int port)
    {
        var result = await TryConnectAsync(from, address, port);
        Assert.False(result.Succeeded, $"{from.Name} connected to {address}:{port}, which the policy does not grant");
    }
}
