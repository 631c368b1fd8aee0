using System.Globalization;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// The policy for a plain WireGuard peer, which has no filter of its own: its gateway enforces what it
/// may send and receive, and the destination checks again. Alice's phone may reach tag:server on 443
/// and nothing else; nothing may reach the phone. When the gateway goes, status and the node list say so.
/// </summary>
public sealed class PlainPeerPolicyTests(ITestOutputHelper output)
{
    private static readonly TimeSpan MeshTimeout = TimeSpan.FromSeconds(45);

    /// <summary>How long a refused connect is given: far longer than a tunnel round trip, so a timeout means refused.</summary>
    private const int RefusedSeconds = 3;

    private const string Policy = """
        {
          "tagOwners": { "tag:server": ["lab@"] },
          "acls": [
            { "action": "accept", "src": ["alice@"], "dst": ["tag:server:443"] },
            { "action": "accept", "src": ["lab@", "tag:server"], "dst": ["lab@:*", "tag:server:*"] },
          ],
        }
        """;

    [Fact]
    public async Task A_plain_peer_allowed_only_tag_server_443_reaches_that_and_nothing_else_and_nothing_reaches_it()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        await mesh.AdminAsync("users", "create", "alice");
        var policyFile = Path.Combine(mesh.ServerDataDirectory, "..", "policy.hujson");
        await File.WriteAllTextAsync(policyFile, Policy);
        await mesh.AdminAsync("policy", "set", policyFile);
        var serverKey = (await mesh.AdminAsync("authkeys", "create", "--reusable", "--tags", "tag:server")).StandardOutput.Trim();

        var gateway = await mesh.AddNodeAsync("gateway");
        var server = await mesh.AddNodeAsync("server");
        var other = await mesh.AddNodeAsync("other");
        await gateway.UpAsync();
        await other.UpAsync();
        await server.UpWithKeyAsync(serverKey);
        await mesh.AdminAsync("nodes", "gateway", "gateway", "on");
        var config = await Poll.ForValueAsync(
            async _ => await mesh.Run(mesh.ServerHost, "nodes", "add-wireguard", "phone", "--user", "alice", "--admin-socket", Path.Combine(mesh.ServerDataDirectory, "admin.sock")) is { Succeeded: true } r ? r.StandardOutput : null,
            MeshTimeout,
            "add-wireguard to succeed once the gateway reported its endpoint");
        var device = await mesh.Lab.AddRouterAsync(NatKind.Easy);
        await using var phone = LabPlainPeer.Create(await device.AddHostAsync(), config);
        await phone.UpAsync();

        foreach (var (ns, port) in new[] { (server.Host.Namespace, 443), (server.Host.Namespace, 22), (other.Host.Namespace, 22), (phone.Host.Namespace, 22) })
        {
            await ListenAsync(ns, port);
        }

        var serverAddresses = await server.AddressesAsync();
        var otherAddress = (await other.AddressesAsync())[0];

        // Granted, over both families, and the replies find their way back.
        await ConnectsAsync(phone.Host.Namespace, serverAddresses[0], 443);
        await ConnectsAsync(phone.Host.Namespace, serverAddresses[1], 443);
        await ConnectsAsync(other.Host.Namespace, serverAddresses[0], 22); // the mesh itself works under this policy

        // Refused: the other port, another node, and anything toward the phone. (Pings to the server
        // pass: as in Tailscale, a rule for any port of a destination lets ICMP reach it.)
        await RefusedAsync(phone.Host.Namespace, serverAddresses[0], 22);
        await RefusedAsync(phone.Host.Namespace, otherAddress, 22);
        Assert.False(await phone.PingAsync(otherAddress), "the phone may not ping a node it is not granted");
        await RefusedAsync(server.Host.Namespace, phone.IPv4, 22);
        await RefusedAsync(other.Host.Namespace, phone.IPv4, 22);
        Assert.True((await gateway.StatusAsync()).GetProperty("droppedByPolicy").GetInt64() > 0, "the gateway enforces the phone's policy");

        // Losing the gateway is visible where a user looks: the phone is unreachable, and why.
        (await gateway.RunAsync("down")).EnsureSuccess();
        await Poll.UntilAsync(
            async _ => PlainPeerTests.NodeRow((await server.RunAsync("status")).StandardOutput, "phone").Contains(" via gateway gateway (offline) ", StringComparison.Ordinal),
            MeshTimeout,
            "`trellis status` on another node to say the plain peer's gateway is offline");
        await Poll.UntilAsync(
            async _ => PlainPeerTests.NodeRow((await mesh.AdminAsync("nodes", "list")).StandardOutput, "phone").Contains(" no (gateway gateway offline) ", StringComparison.Ordinal),
            MeshTimeout,
            "`trellis nodes list` to say the plain peer's gateway is offline");
    }

    private static async Task ListenAsync(NetNamespace ns, int port)
    {
        var portText = port.ToString(CultureInfo.InvariantCulture);
        var listener = ns.StartProcess("iperf3", ["-s", "-p", portText]);
        await Poll.UntilAsync(
            async _ =>
            {
                Assert.False(listener.HasExited, $"iperf3 on {ns}:{port} exited: {listener.Output}");
                var listening = await ns.ExecAsync("ss", ["-Hltn", $"sport = :{portText}"], CommandOptions.Default);
                return listening.StandardOutput.Contains(portText, StringComparison.Ordinal);
            },
            MeshTimeout,
            $"a listener on {ns}:{port}");
    }

    private static Task<CommandResult> TryConnectAsync(NetNamespace from, string address, int port) =>
        from.ExecAsync(
            "timeout",
            [RefusedSeconds.ToString(CultureInfo.InvariantCulture), "bash", "-c", $"exec 3<>/dev/tcp/{address}/{port}"],
            CommandOptions.Default);

    private static Task ConnectsAsync(NetNamespace from, string address, int port) =>
        Poll.UntilAsync(async _ => (await TryConnectAsync(from, address, port)).Succeeded, MeshTimeout, $"{from} to connect to {address}:{port}");

    private static async Task RefusedAsync(NetNamespace from, string address, int port)
    {
        var result = await TryConnectAsync(from, address, port);
        Assert.False(result.Succeeded, $"{from} connected to {address}:{port}, which the policy does not grant");
    }
}
