using System.Globalization;

namespace Trellis.Lab;

/// <summary>
/// `trellis server` on a public lab host, as the demo and the node lab tests run it: dual-stack, with
/// the embedded relay listed under both its addresses (region 900, "default"), so IPv4-only and
/// IPv6-only sites both reach the control server, the relay and STUN.
/// </summary>
public static class LabControlServer
{
    public const int Port = 8080;

    public const int StunPort = 3478;

    // A safety net only: the server's start costs about 4 CPU-seconds (Debug build), which took 51 s on 2 cores shared with a load of 49.
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    public static string Url(NatHost host, LabTls? tls = null) => $"{Scheme(tls)}://{host.IPv4!.Endpoint(Port)}";

    public static string UrlV6(NatHost host, LabTls? tls = null) => $"{Scheme(tls)}://{host.IPv6!.Endpoint(Port)}";

    private static string Scheme(LabTls? tls) => tls is null ? "http" : "https";

    /// <summary>Writes the configuration into <paramref name="dataDirectory"/>, starts the server and waits until it listens.</summary>
    /// <param name="relays">Standalone relays (`trellis relay`) to list instead of the embedded one, one region each, and their mesh key.</param>
    /// <param name="extraConfig">More top-level YAML for the server's configuration file (e.g. a dns: section).</param>
    /// <param name="tls">Serve HTTPS (control, admin API and the embedded relay) with this certificate instead of HTTP.</param>
    /// <exception cref="InvalidOperationException">The server exited instead (its output says why).</exception>
    public static async Task<LabProcess> StartAsync(TrellisExecutable trellis, NatHost host, string dataDirectory, CancellationToken cancellationToken = default, LabRelayRegions? relays = null, string? extraConfig = null, LabTls? tls = null)
    {
        ArgumentNullException.ThrowIfNull(trellis);
        ArgumentNullException.ThrowIfNull(host);
        Directory.CreateDirectory(dataDirectory);
        var config = Path.Combine(dataDirectory, "server.yaml");
        await File.WriteAllTextAsync(config, (relays?.ServerConfig() ?? string.Create(CultureInfo.InvariantCulture, $$"""
            relay-regions:
              - id: 900
                code: default
                nodes:
                  - name: 900a
                    host: {{host.IPv4!.Address}}
                    port: {{Port}}
                    tls: {{(tls is null ? "false" : "true")}}
                    stun-port: {{StunPort}}
                    ipv4: {{host.IPv4!.Address}}
                    ipv6: "{{host.IPv6!.Address}}"
            """)) + "\n" + extraConfig, cancellationToken).ConfigureAwait(false);
        var server = host.Namespace.StartProcess(
            trellis.FileName,
            [
                .. trellis.LeadingArguments, "server", "--listen", $"{Scheme(tls)}://[::]:{Port}", "--public-url", Url(host, tls), "--config", config, "--data-dir", dataDirectory,
                .. tls is null ? Array.Empty<string>() : ["--tls-cert", tls.CertificatePath, "--tls-key", tls.KeyPath],
            ]);
        try
        {
            await Poll.UntilAsync(() => server.Output.Contains("listening on", StringComparison.Ordinal) || server.HasExited, StartTimeout, "trellis server", cancellationToken)
                .ConfigureAwait(false);
            if (server.HasExited)
            {
                throw new InvalidOperationException($"trellis server exited: {server.Output}");
            }

            return server;
        }
        catch (TimeoutException e)
        {
            // Not handed to the caller, so its output would be lost with it: the output says what it waited for.
            await server.StopAsync().ConfigureAwait(false);
            throw new TimeoutException($"{e.Message}; its output:\n{server.Output}", e);
        }
        catch
        {
            // Not handed to the caller, so stopped here (a timed-out server would otherwise outlive the lab).
            await server.StopAsync().ConfigureAwait(false);
            throw;
        }
    }
}
