using Trellis.Core.Control;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Names, end to end: real daemons resolve each other through the mesh resolver with `dig`, `ping`
/// finds peers through the namespace's resolv.conf, a split domain is answered by its own dnsmasq and
/// other names by the host's original one, a rename answers under the new name, `down` (and a
/// stopping daemon) put the original resolv.conf back byte for byte, and --accept-dns=false never touches it.
/// </summary>
public sealed class NamesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // The server host runs two dnsmasqs: the nodes' original nameserver on port 53, and the split
    // domain's on 5353. Both know corp.example, with different answers, so the answer tells who was asked.
    private const int SplitPort = 5353;
    private const string UpstreamCorp = "192.0.2.99";
    private const string SplitCorp = "192.0.2.10";
    private const string Outside = "192.0.2.77";

    [Fact]
    public async Task Peers_resolve_by_name_split_and_other_names_go_to_their_servers_renames_follow_and_down_restores_resolv_conf()
    {
        LabRequirements.EnsureAvailable(["dig", "dnsmasq"]);
        await using var mesh = await MeshLab.StartAsync(output, serverConfig: host => $"""
            dns:
              base-domain: mesh.test
              split-dns:
                corp.example: ["{host.IPv4!.Address}:{SplitPort}"]
            """);
        var server = mesh.ServerHost;
        Dnsmasq(server, 53, $"--address=/corp.example/{UpstreamCorp}", $"--address=/outside.example/{Outside}");
        Dnsmasq(server, SplitPort, $"--address=/corp.example/{SplitCorp}");

        var alpha = await mesh.AddNodeAsync("alpha");
        var bravo = await mesh.AddNodeAsync("bravo");
        var delta = await mesh.AddNodeAsync("delta");
        var original = System.Text.Encoding.ASCII.GetBytes($"# the lab's own\nnameserver {server.IPv4!.Address}\noptions timeout:2\n");
        foreach (var node in new[] { alpha, bravo, delta })
        {
            await File.WriteAllBytesAsync(node.Host.Namespace.ResolvConfPath, original);
        }

        await alpha.UpAsync();
        await bravo.UpAsync();
        await delta.UpAsync("--accept-dns=false");
        var bravoAddresses = await bravo.AddressesAsync();

        foreach (var resolver in new[] { MeshResolverAddress.IPv4.ToString(), MeshResolverAddress.IPv6.ToString() })
        {
            await Poll.UntilAsync(async _ => await DigAsync(alpha, resolver, "bravo.mesh.test", "A") == bravoAddresses[0], Timeout, $"alpha's resolver at {resolver} to know bravo");
            Assert.Equal(bravoAddresses[1], await DigAsync(alpha, resolver, "bravo.mesh.test", "AAAA"));
        }

        Assert.Equal(bravoAddresses[0], await DigAsync(alpha, MeshResolverAddress.IPv4.ToString(), "bravo", "A"));
        Assert.Equal(bravoAddresses[1], await DigAsync(alpha, MeshResolverAddress.IPv4.ToString(), "bravo.mesh.test", "AAAA", "+tcp"));
        Assert.Equal("bravo.mesh.test.", await DigAsync(alpha, MeshResolverAddress.IPv4.ToString(), "-x", bravoAddresses[0]));
        Assert.Equal("", await DigAsync(alpha, MeshResolverAddress.IPv4.ToString(), "nobody.mesh.test", "A"));
        Assert.Equal(SplitCorp, await DigAsync(alpha, MeshResolverAddress.IPv4.ToString(), "corp.example", "A"));
        Assert.Equal(Outside, await DigAsync(alpha, MeshResolverAddress.IPv4.ToString(), "outside.example", "A"));

        // The host's own resolver configuration (the namespace's resolv.conf) now leads to the mesh,
        // once the tunnel itself carries pings (a first handshake goes through the relay).
        var alphaAddresses = await alpha.AddressesAsync();
        await Poll.UntilAsync(_ => alpha.PingAsync(bravoAddresses[0]), Timeout, "alpha to ping bravo by address");
        await Poll.UntilAsync(_ => bravo.PingAsync(alphaAddresses[0]), Timeout, "bravo to ping alpha by address");
        Assert.True(await alpha.PingAsync("bravo"), "ping bravo through resolv.conf");
        Assert.True((await alpha.Host.Namespace.ExecAsync("ping", "-6", "-c", "1", "-W", "2", "bravo")).Succeeded, "ping -6 bravo");
        Assert.True(await bravo.PingAsync("alpha.mesh.test"), "ping alpha.mesh.test from bravo");

        // --accept-dns=false: the host's resolv.conf stays as it was, and the resolver still answers.
        await Poll.UntilAsync(async _ => await DigAsync(delta, MeshResolverAddress.IPv4.ToString(), "alpha.mesh.test", "A") == (await alpha.AddressesAsync())[0], Timeout, "delta's resolver to know alpha");
        Assert.Equal(original, await File.ReadAllBytesAsync(delta.Host.Namespace.ResolvConfPath));

        await mesh.AdminAsync("nodes", "rename", "bravo", "charlie");
        await Poll.UntilAsync(async _ => await DigAsync(alpha, MeshResolverAddress.IPv4.ToString(), "charlie.mesh.test", "A") == bravoAddresses[0], Timeout, "the renamed node to answer as charlie");
        Assert.Equal("", await DigAsync(alpha, MeshResolverAddress.IPv4.ToString(), "bravo.mesh.test", "A"));

        (await alpha.RunAsync("down")).EnsureSuccess();
        Assert.Equal(original, await File.ReadAllBytesAsync(alpha.Host.Namespace.ResolvConfPath));

        await bravo.Daemon.StopAsync();
        Assert.Equal(original, await File.ReadAllBytesAsync(bravo.Host.Namespace.ResolvConfPath));
    }

    private static void Dnsmasq(NatHost host, int port, params string[] records) =>
        host.Namespace.StartProcess("dnsmasq", [
            "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--user=root", "--pid-file=",
            "--bind-interfaces", $"--listen-address={host.IPv4!.Address}", $"--port={port}", .. records]);

    /// <summary>`dig +short` from the node: the answer's first line, "" when there is none.</summary>
    private static async Task<string> DigAsync(LabNode node, string resolver, params string[] question)
    {
        var result = await node.Host.Namespace.ExecAsync("dig", ["+short", "+time=2", "+tries=2", $"@{resolver}", .. question], CommandOptions.Default);
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
    }
}
