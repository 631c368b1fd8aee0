using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Trellis.Lab;

/// <summary>
/// Standalone relays (`trellis relay`, with STUN beside each) on public lab hosts, one region each
/// (ids from <see cref="FirstRegionId"/>, codes <c>r1</c>, <c>r2</c>, ...), admitting the nodes the
/// control server vouches for with a mesh key they share with it.
/// </summary>
public sealed class LabRelayRegions(IReadOnlyList<NatHost> hosts)
{
    public const int FirstRegionId = 901;

    public const int Port = 8443;

    public const int StunPort = 3478;

    public IReadOnlyList<NatHost> Hosts { get; } = hosts;

    /// <summary>Each relay's TLS certificate for its host (it then listens on https:// and the map says tls: true); null: plain HTTP.</summary>
    public Func<NatHost, LabTls>? Tls { get; init; }

    /// <summary>A private CA file the relays trust (--ca-cert) for the control server's certificate; null: the system's roots.</summary>
    public string? CaCertificate { get; init; }

    /// <summary>More flags for every relay (e.g. --metrics-listen ADDRESS:PORT).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    public string MeshKey { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

    public static int RegionId(int index) => FirstRegionId + index;

    public static string Code(int index) => string.Create(CultureInfo.InvariantCulture, $"r{index + 1}");

    /// <summary>The server's YAML: the mesh key and these relays as the only regions.</summary>
    public string ServerConfig()
    {
        var yaml = new StringBuilder();
        yaml.Append(CultureInfo.InvariantCulture, $"relay-mesh-key: {MeshKey}\nrelay-regions:\n");
        for (var i = 0; i < Hosts.Count; i++)
        {
            var address = Hosts[i].IPv4!.Address;
            yaml.Append(CultureInfo.InvariantCulture, $"""
                  - id: {RegionId(i)}
                    code: {Code(i)}
                    nodes:
                      - name: {Code(i)}a
                        host: {address}
                        port: {Port}
                        tls: {(Tls is null ? "false" : "true")}
                        stun-port: {StunPort}
                        ipv4: {address}

                """);
        }

        return yaml.ToString();
    }

    /// <summary>Starts relay <paramref name="index"/> and waits until it listens; stop it with <see cref="LabProcess.StopAsync"/>.</summary>
    public async Task<LabProcess> StartAsync(TrellisExecutable trellis, int index, string controlUrl, string dataDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trellis);
        Directory.CreateDirectory(dataDirectory);
        var keyFile = Path.Combine(dataDirectory, "mesh.key");
        await File.WriteAllTextAsync(keyFile, MeshKey, cancellationToken).ConfigureAwait(false);
        var tls = Tls?.Invoke(Hosts[index]);
        var relay = Hosts[index].Namespace.StartProcess(
            trellis.FileName,
            [
                .. trellis.LeadingArguments, "relay", "--listen", $"{(tls is null ? "http" : "https")}://0.0.0.0:{Port}", "--control-url", controlUrl, "--insecure",
                "--mesh-key-file", keyFile, "--data-dir", dataDirectory, "--stun-port", StunPort.ToString(CultureInfo.InvariantCulture),
                .. tls is null ? Array.Empty<string>() : ["--tls-cert", tls.CertificatePath, "--tls-key", tls.KeyPath],
                .. CaCertificate is null ? Array.Empty<string>() : ["--ca-cert", CaCertificate],
                .. ExtraArguments,
            ]);
        try
        {
            await Poll.UntilAsync(() => relay.Output.Contains("listening on", StringComparison.Ordinal) || relay.HasExited, LabControlServer.StartTimeout, $"trellis relay {Code(index)}", cancellationToken)
                .ConfigureAwait(false);
            if (relay.HasExited)
            {
                throw new InvalidOperationException($"trellis relay exited: {relay.Output}");
            }

            return relay;
        }
        catch (TimeoutException e)
        {
            await relay.StopAsync().ConfigureAwait(false);
            throw new TimeoutException($"{e.Message}; its output:\n{relay.Output}", e);
        }
        catch
        {
            await relay.StopAsync().ConfigureAwait(false);
            throw;
        }
    }
}
