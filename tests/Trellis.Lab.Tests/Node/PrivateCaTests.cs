using Trellis.Testing;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// A server and a standalone relay whose certificates come from a private CA made here (control,
/// admin API and relay all over HTTPS): the relay given the CA with --ca-cert asks the server which
/// nodes it may admit, daemons given it join and reach each other through that relay, the admin CLI
/// with it lists them, and without it `up` and the admin CLI say the certificate is not trusted and how to trust it.
/// </summary>
public sealed class PrivateCaTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-privateca-lab-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Nodes_and_the_admin_cli_trust_a_private_ca_given_with_ca_cert_and_name_it_when_it_is_missing()
    {
        using var ca = new TestCertificateAuthority();
        var caFile = Path.Combine(_directory, "ca.pem");
        await File.WriteAllTextAsync(caFile, ca.CertificatePem);
        await using var mesh = await MeshLab.StartAsync(output, relayRegions: 1, caCertificate: caFile, tls: host =>
        {
            using var certificate = ca.Issue(host.IPv4!.Address, host.IPv6!.Address);
            var tls = new LabTls(Path.Combine(_directory, $"{host.IPv4.Address}.pem"), Path.Combine(_directory, $"{host.IPv4.Address}.key"));
            TestCertificateAuthority.WritePem(certificate, tls.CertificatePath, tls.KeyPath);
            return tls;
        });
        Assert.StartsWith("https://", mesh.ServerUrl, StringComparison.Ordinal);

        // Both behind symmetric NATs without port guessing: their traffic has no way but the relay.
        var alpha = await mesh.AddNodeAsync("alpha", await mesh.Lab.AddRouterAsync(NatKind.Hard), "--ca-cert", caFile);
        var bravo = await mesh.AddNodeAsync("bravo", await mesh.Lab.AddRouterAsync(NatKind.Hard), "--ca-cert", caFile);
        await alpha.UpAsync("--no-port-guessing");
        await bravo.UpAsync("--no-port-guessing");
        var bravoAddress = (await bravo.AddressesAsync())[0];
        await Poll.UntilAsync(async _ => await alpha.PingAsync(bravoAddress), MeshLab.StartTimeout, "alpha to reach bravo");
        Assert.Equal("relay", (await alpha.PeerAsync("bravo")).GetProperty("path").GetString());
        var run = await alpha.Host.Namespace.ExecAsync("ping", ["-c", "5", "-i", "0.2", "-W", "2", bravoAddress], CommandOptions.Default);
        Assert.True(run.Succeeded, $"pings through the relay: {run}");

        // Each daemon's relay connection is TLS to the standalone relay, which admitted it after asking the server over TLS.
        var relayUrl = $"https://{mesh.RelayRegions!.Hosts[0].IPv4!.Endpoint(LabRelayRegions.Port)}/relay";
        foreach (var node in new[] { alpha, bravo })
        {
            await Poll.UntilAsync(
                () => node.Daemon.Output.Contains($"relay {relayUrl} (", StringComparison.Ordinal) && node.Daemon.Output.Contains(") connected over ", StringComparison.Ordinal),
                MeshLab.StartTimeout,
                $"{node.Name}'s connection to the relay");
        }

        // No CA: `up` fails, saying the certificate is not trusted and naming --ca-cert.
        var charlie = await mesh.AddNodeAsync("charlie");
        var refused = await charlie.RunAsync("up", "--server", mesh.ServerUrl, "--authkey", mesh.AuthKey, "--hostname", "charlie");
        Assert.False(refused.Succeeded, refused.ToString());
        Assert.Contains("TLS certificate is not trusted", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("--ca-cert", refused.StandardError, StringComparison.Ordinal);

        // The admin CLI over HTTPS with an API key, from a node's host.
        var apiKey = (await mesh.AdminAsync("apikeys", "create")).StandardOutput.Trim();
        var listed = await mesh.Run(alpha.Host, "nodes", "list", "--server", mesh.ServerUrl, "--api-key", apiKey, "--ca-cert", caFile);
        listed.EnsureSuccess();
        Assert.Contains("alpha", listed.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("bravo", listed.StandardOutput, StringComparison.Ordinal);

        var untrusted = await mesh.Run(alpha.Host, "nodes", "list", "--server", mesh.ServerUrl, "--api-key", apiKey);
        Assert.False(untrusted.Succeeded, untrusted.ToString());
        Assert.Contains("TLS certificate is not trusted", untrusted.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(apiKey, untrusted.StandardError, StringComparison.Ordinal);

        // The server's audit line names the auth key the nodes registered with by its public prefix, never the secret.
        Assert.Contains("node alpha (", mesh.Server.Output, StringComparison.Ordinal);
        Assert.Contains("registered with auth key ", mesh.Server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(mesh.AuthKey, mesh.Server.Output, StringComparison.Ordinal);
    }
}
