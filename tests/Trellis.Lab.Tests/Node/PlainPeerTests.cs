using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// The plain WireGuard peers issue's acceptance: a device with only wg-quick and wireguard-go, behind
/// an easy NAT, joins through a gateway node with the configuration exactly as `trellis nodes
/// add-wireguard` printed it, and reaches (and is reached from) nodes on a public address, behind an
/// easy NAT and behind a hard NAT, over both overlay families, and a LAN routed by one of them; the
/// mesh shows it online through its gateway; deleting it cuts it off.
/// </summary>
public sealed class PlainPeerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan MeshTimeout = TimeSpan.FromSeconds(45);

    private const int IperfSeconds = 5;

    private const string Escape = "\u001b[";

    [Fact]
    public async Task A_wg_quick_peer_behind_a_NAT_reaches_every_kind_of_node_through_the_gateway_both_ways_until_deleted()
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var gateway = await mesh.AddNodeAsync("gateway");
        var server = await mesh.AddNodeAsync("server");
        var easy = await mesh.AddNodeAsync("easy", await mesh.Lab.AddRouterAsync(NatKind.Easy));
        var hard = await mesh.AddNodeAsync("hard", await mesh.Lab.AddRouterAsync(NatKind.Hard));
        LabNode[] nodes = [gateway, server, easy, hard];

        // A LAN behind the node behind the hard NAT, routed into the mesh: the plain peer reaches it too.
        await using var lanHost = await NetNamespace.CreateAsync();
        await using var lan = await VethLink.CreateAsync(hard.Host.Namespace, lanHost, LabAddress.Parse("10.77.0.1/24"), null, LabAddress.Parse(LanHost + "/24"), null);
        await lanHost.IpAsync("route", "add", "default", "via", "10.77.0.1");
        foreach (var node in nodes)
        {
            await (node == hard ? node.UpAsync("--advertise-routes", Lan) : node.UpAsync());
        }

        await mesh.AdminAsync("routes", "approve", "hard", Lan);
        await mesh.AdminAsync("nodes", "gateway", "gateway", "on");

        // The gateway must have reported its public endpoint first: until then it cannot serve, and nothing is registered.
        var config = await Poll.ForValueAsync(
            async _ => await mesh.Run(mesh.ServerHost, "nodes", "add-wireguard", "phone", "--user", "lab", "--admin-socket", AdminSocket(mesh)) is { Succeeded: true } r ? r.StandardOutput : null,
            MeshTimeout,
            "add-wireguard to succeed once the gateway reported its endpoint");
        output.WriteLine(config);
        Assert.Contains("PrivateKey = ", config, StringComparison.Ordinal);
        Assert.Contains("PersistentKeepalive = 25", config, StringComparison.Ordinal);
        Assert.Contains($", {Lan}\n", config, StringComparison.Ordinal); // the approved route, in AllowedIPs

        var device = await mesh.Lab.AddRouterAsync(NatKind.Easy);
        await using var phone = LabPlainPeer.Create(await device.AddHostAsync(), config);
        var stripped = (await phone.WgQuickAsync("strip", phone.ConfigPath)).EnsureSuccess().StandardOutput;
        Assert.Contains("[Peer]", stripped, StringComparison.Ordinal);
        Assert.DoesNotContain("Address", stripped, StringComparison.Ordinal); // wg-quick's own keys were understood and taken out

        await phone.UpAsync();
        Assert.Contains("nameserver 100.100.100.100", phone.ResolvConf(), StringComparison.Ordinal);

        foreach (var node in nodes)
        {
            foreach (var address in await node.AddressesAsync())
            {
                await Poll.UntilAsync(_ => phone.PingAsync(address), MeshTimeout, $"the plain peer to ping {node.Name} at {address}");
            }

            await Poll.UntilAsync(_ => node.PingAsync(phone.IPv4), MeshTimeout, $"{node.Name} to ping the plain peer at {phone.IPv4}");
            await Poll.UntilAsync(_ => node.PingAsync(phone.IPv6), MeshTimeout, $"{node.Name} to ping the plain peer at {phone.IPv6}");
        }

        await Poll.UntilAsync(_ => phone.PingAsync(LanHost), MeshTimeout, "the plain peer to ping a LAN host behind the subnet router, forwarded by the gateway");

        // The mesh sees the device online as its handshakes show, and through which gateway.
        await Poll.UntilAsync(
            async _ => NodeRow((await mesh.AdminAsync("nodes", "list")).StandardOutput, "phone").Contains(" yes (via gateway) ", StringComparison.Ordinal),
            MeshTimeout,
            "`trellis nodes list` to show the plain peer online through its gateway");
        await Poll.UntilAsync(
            async _ => NodeRow((await server.RunAsync("status")).StandardOutput, "phone") is var row && row.Contains(" yes ", StringComparison.Ordinal) && row.Contains(" via gateway gateway ", StringComparison.Ordinal),
            MeshTimeout,
            "`trellis status` on another node to show the plain peer online via its gateway");

        // Throughput through the gateway, beside a direct Trellis pair in the same run (printed for docs/BENCHMARKS.md, never asserted).
        var throughGateway = await MeshIperf.RunAsync(phone.Host.Namespace, server, IperfSeconds, "plain peer (wg-quick + wireguard-go) -> gateway -> server", output);
        var direct = await MeshIperf.RunAsync(gateway, server, IperfSeconds, "gateway -> server, direct", output);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BENCHMARK | plain peer through the gateway {throughGateway / 1e6:0.0} Mbit/s | Trellis pair direct {direct / 1e6:0.0} Mbit/s | ratio {throughGateway / direct:0.00} |"));

        var serverAddress = (await server.AddressesAsync())[0];
        await mesh.AdminAsync("nodes", "delete", "phone");
        var clock = Stopwatch.StartNew();
        await Poll.UntilAsync(async _ => !await phone.PingAsync(serverAddress), MeshTimeout, "the deleted plain peer to be cut off");
        output.WriteLine($"revoked: the plain peer's pings stopped passing {clock.Elapsed.TotalSeconds:0.0} s after `trellis nodes delete`");
        for (var i = 0; i < 3; i++)
        {
            Assert.False(await phone.PingAsync(serverAddress), "a deleted plain peer stays cut off");
            Assert.False(await server.PingAsync(phone.IPv4), "nothing reaches a deleted plain peer");
        }
    }

    [Fact]
    public async Task The_printed_configuration_parses_with_wg_quick_strip_and_its_terminal_QR_code_decodes_to_the_same_text()
    {
        LabRequirements.EnsureAvailable(["zbarimg", "wg-quick"]);
        await using var mesh = await MeshLab.StartAsync(output);
        var gateway = await mesh.AddNodeAsync("gateway");
        await gateway.UpAsync();
        await mesh.AdminAsync("nodes", "gateway", "gateway", "on");
        var key = (await mesh.Run(mesh.ServerHost, "genkey")).EnsureSuccess().StandardOutput.Trim();
        var publicKey = (await mesh.ServerHost.Namespace.ExecAsync("wg", ["pubkey"], new CommandOptions { StandardInput = key + "\n" })).EnsureSuccess().StandardOutput.Trim();
        await Poll.UntilAsync(
            async _ => (await mesh.Run(mesh.ServerHost, "nodes", "add-wireguard", "laptop", "--user", "lab", "--public-key", publicKey, "--admin-socket", AdminSocket(mesh))).Succeeded,
            MeshTimeout,
            "add-wireguard to succeed once the gateway reported its endpoint");

        var config = (await mesh.AdminAsync("nodes", "wireguard-config", "laptop")).StandardOutput;
        Assert.DoesNotContain(key, config, StringComparison.Ordinal);
        Assert.Contains(publicKey, config, StringComparison.Ordinal);
        var directory = Directory.CreateTempSubdirectory("trellis-plainqr-").FullName;
        try
        {
            var path = Path.Combine(directory, "laptop.conf");
            await File.WriteAllTextAsync(path, config);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var stripped = (await HostCommand.RunAsync("wg-quick", ["strip", path], CommandOptions.Default)).EnsureSuccess().StandardOutput;
            Assert.Contains($"PublicKey = ", stripped, StringComparison.Ordinal);

            var withQr = (await mesh.AdminAsync("nodes", "wireguard-config", "laptop", "--qr")).StandardOutput;
            Assert.StartsWith(config, withQr, StringComparison.Ordinal);
            var image = Path.Combine(directory, "qr.pgm");
            await File.WriteAllTextAsync(image, TerminalQrToPgm(withQr[config.Length..]));
            var decoded = (await HostCommand.RunAsync("zbarimg", ["--raw", "-q", image], CommandOptions.Default)).EnsureSuccess().StandardOutput;
            Assert.Equal(config.TrimEnd('\n'), decoded.TrimEnd('\n'));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private const string Lan = "10.77.0.0/24";

    private const string LanHost = "10.77.0.10";

    private static string AdminSocket(MeshLab mesh) => Path.Combine(mesh.ServerDataDirectory, "admin.sock");

    /// <summary>The table row (of `nodes list` or `status`) that names <paramref name="name"/>, with a space at each end; empty when none does.</summary>
    internal static string NodeRow(string table, string name) =>
        " " + (table.Split('\n').FirstOrDefault(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(name)) ?? "") + " ";

    /// <summary>
    /// What the terminal shows, as an image: each character cell is two modules stacked (the half
    /// blocks drawn in the bright foreground over the black background), 4 pixels a module.
    /// </summary>
    private static string TerminalQrToPgm(string terminal)
    {
        var rows = new List<bool[]>();
        foreach (var line in terminal.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var cells = StripEscapes(line);
            var top = new bool[cells.Length];
            var bottom = new bool[cells.Length];
            for (var i = 0; i < cells.Length; i++)
            {
                top[i] = cells[i] is '█' or '▀';
                bottom[i] = cells[i] is '█' or '▄';
            }

            rows.Add(top);
            rows.Add(bottom);
        }

        const int Scale = 4;
        var width = rows.Max(r => r.Length);
        var text = new StringBuilder($"P2\n{width * Scale} {rows.Count * Scale}\n255\n");
        foreach (var row in rows)
        {
            for (var y = 0; y < Scale; y++)
            {
                for (var x = 0; x < width * Scale; x++)
                {
                    text.Append(x / Scale < row.Length && row[x / Scale] ? "255 " : "0 ");
                }

                text.Append('\n');
            }
        }

        return text.ToString();
    }

    private static string StripEscapes(string line)
    {
        var text = new StringBuilder();
        for (var i = 0; i < line.Length; i++)
        {
            if (string.CompareOrdinal(line, i, Escape, 0, Escape.Length) == 0)
            {
                i = line.IndexOf('m', i);
                continue;
            }

            text.Append(line[i]);
        }

        return text.ToString();
    }
}
