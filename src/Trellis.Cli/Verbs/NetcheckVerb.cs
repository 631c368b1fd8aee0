using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Trellis.Cli.Verbs.Admin;
using Trellis.Core.Control;
using Trellis.Core.Tls;
using Trellis.Net.Netcheck;
using Trellis.Net.Stun;
using Trellis.Node.LocalApi;

namespace Trellis.Cli.Verbs;

/// <summary>
/// `trellis netcheck`: measures this host's connectivity against a relay map (a file, a control
/// server's GET /relay-map, or ad-hoc STUN servers) and prints the report as text or JSON.
/// </summary>
internal static class NetcheckVerb
{
    /// <summary>Ad-hoc --stun servers become regions from here up (the self-hosted range).</summary>
    public const int FirstAdHocRegion = 900;

    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(10);

    public static Command Build()
    {
        var relayMap = new Option<string?>("--relay-map") { Description = "A relay map file (JSON, as a Trellis control server serves it)." };
        var server = new Option<string?>("--server") { Description = "A Trellis control server whose relay map to use (GET URL/relay-map)." };
        var stun = new Option<string[]>("--stun")
        {
            Description = $"A STUN server, HOST[:PORT] (port {StunServer.DefaultPort} when left out); repeatable, each its own region from {FirstAdHocRegion} up.",
        };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var caCert = CaCertOption.Create("--server's certificate");
        var socket = Node.NodeAction.SocketOption();
        socket.Description = "With no --relay-map, --server or --stun: the daemon to ask, which measures against its network's relays. " + socket.Description;
        var command = new Command("netcheck", "Measure this host's connectivity: UDP, public addresses, NAT mapping, port mapping, relay latency.")
        {
            relayMap, server, stun, json, caCert, socket,
        };
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                if (parse.GetValue(relayMap) is null && parse.GetValue(server) is null && (parse.GetValue(stun) ?? []).Length == 0)
                {
                    return await FromDaemonAsync(parse.GetValue(socket), parse.GetValue(json), output, ct).ConfigureAwait(false);
                }

                var map = await LoadMapAsync(parse.GetValue(relayMap), parse.GetValue(server), parse.GetValue(caCert), parse.GetValue(stun) ?? [], ct).ConfigureAwait(false);
                var report = await new Netchecker().RunAsync(map, ct).ConfigureAwait(false);
                if (parse.GetValue(json))
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(report, NetcheckJsonContext.Default.NetcheckReport)).ConfigureAwait(false);
                }
                else
                {
                    WriteText(report, map, output);
                }

                return CommandLine.Success;
            }
            catch (NetcheckFailure e)
            {
                await error.WriteLineAsync($"trellis netcheck: {e.Message}").ConfigureAwait(false);
                return e.ExitCode;
            }
        });
        return command;
    }

    private static async Task<RelayMap> LoadMapAsync(string? file, string? server, string? caCert, string[] stun, CancellationToken ct)
    {
        if (file is null && server is null && stun.Length == 0)
        {
            throw NetcheckFailure.Usage("give what to measure against: --relay-map FILE, --server URL or --stun HOST:PORT");
        }

        if (file is not null && server is not null)
        {
            throw NetcheckFailure.Usage("give --relay-map or --server, not both");
        }

        // Parse the ad-hoc servers first, so a typo is a usage error before any network traffic.
        var adHoc = stun.Select(ParseStunServer).ToList();
        var map = file is not null ? ReadMapFile(file)
            : server is not null ? await FetchMapAsync(server, caCert, ct).ConfigureAwait(false)
            : new RelayMap();

        var regions = map.Regions.ToList();
        var id = FirstAdHocRegion;
        foreach (var node in adHoc)
        {
            while (regions.Any(r => r.Id == id))
            {
                id++;
            }

            regions.Add(new RelayRegion { Id = id, Code = node.Name, Name = "--stun " + node.Name, Nodes = [node] });
        }

        return new RelayMap { Regions = regions };
    }

    /// <summary>A --stun value as a relay node of its own: HOST, HOST:PORT, an IPv6 address bare or as [V6]:PORT.</summary>
    private static RelayNode ParseStunServer(string text)
    {
        if (!TrySplitHostPort(text, out var host, out var port))
        {
            throw NetcheckFailure.Usage($"--stun '{text}' is not HOST[:PORT] (an IPv6 address with a port goes in brackets: [2001:db8::1]:3478)");
        }

        var address = IPAddress.TryParse(host, out var literal) ? literal : null;
        return new RelayNode
        {
            Name = text,
            Host = host,
            StunPort = port,
            IPv4 = address?.AddressFamily == AddressFamily.InterNetwork ? address.ToString() : null,
            IPv6 = address?.AddressFamily == AddressFamily.InterNetworkV6 ? address.ToString() : null,
        };
    }

    private static bool TrySplitHostPort(string text, out string host, out int port)
    {
        host = text;
        port = StunServer.DefaultPort;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = text[1..close];
            var rest = text[(close + 1)..];
            return IPAddress.TryParse(host, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6
                && (rest.Length == 0 || (rest[0] == ':' && TryParsePort(rest[1..], out port)));
        }

        if (text.Count(c => c == ':') > 1)
        {
            return IPAddress.TryParse(text, out _); // a bare IPv6 address, default port
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            host = text[..colon];
            if (!TryParsePort(text[(colon + 1)..], out port))
            {
                return false;
            }
        }

        return host.Length > 0 && !host.Any(char.IsWhiteSpace);
    }

    private static bool TryParsePort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= ushort.MaxValue;

    private static RelayMap ReadMapFile(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), ControlJsonContext.Default.RelayMap)
                ?? throw new NetcheckFailure($"{path} holds no relay map");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NetcheckFailure($"cannot read the relay map {path}: {e.Message}");
        }
        catch (JsonException e)
        {
            throw new NetcheckFailure($"{path} is not a relay map: {e.Message}");
        }
    }

    private static async Task<RelayMap> FetchMapAsync(string server, string? caCert, CancellationToken ct)
    {
        PrivateCa? ca;
        try
        {
            ca = PrivateCa.FromFlagOrEnvironment(caCert);
        }
        catch (InvalidDataException e)
        {
            throw NetcheckFailure.Usage(e.Message);
        }

        if (!Uri.TryCreate(server, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw NetcheckFailure.Usage($"--server must be an http:// or https:// URL, got '{server}'");
        }

        // A trailing slash keeps a path prefix (a server behind a proxy at /trellis/) when joining.
        var mapUrl = new Uri(new Uri(url.AbsoluteUri.EndsWith('/') ? url.AbsoluteUri : url.AbsoluteUri + "/"), "relay-map");
        using var http = new HttpClient(Trellis.Core.Transport.AddressByAddressConnector.Handler(FetchTimeout, ca)) { Timeout = FetchTimeout };
        try
        {
            using var response = await http.GetAsync(mapUrl, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new NetcheckFailure($"{mapUrl} answered {(int)response.StatusCode} {response.StatusCode}; is it a Trellis server?");
            }

            var json = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            return JsonSerializer.Deserialize(json, ControlJsonContext.Default.RelayMap) ?? throw new JsonException("null");
        }
        catch (HttpRequestException e)
        {
            throw new NetcheckFailure($"cannot fetch {mapUrl}: {Trellis.Core.Transport.ConnectionFailures.Describe(e, mapUrl.Host)}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new NetcheckFailure($"{mapUrl} did not answer within {FetchTimeout.TotalSeconds:0} s");
        }
        catch (JsonException)
        {
            throw new NetcheckFailure($"{mapUrl} did not send a relay map this CLI understands; is it a Trellis server of the same version?");
        }
    }

    private static void WriteText(NetcheckReport report, RelayMap map, TextWriter output)
    {
        var services = new[] { ("NAT-PMP", report.NatPmp), ("PCP", report.Pcp), ("UPnP", report.Upnp) }.Where(s => s.Item2).Select(s => s.Item1).ToList();
        Line("UDP over IPv4:", AdminText.YesNo(report.UdpV4));
        Line("UDP over IPv6:", AdminText.YesNo(report.UdpV6));
        Line("IPv4 address:", report.GlobalV4 ?? AdminText.None);
        Line("IPv6 address:", report.GlobalV6 ?? AdminText.None);
        Line("Mapping varies:", report.MappingVariesByDestination switch
        {
            true => "yes (a hard NAT: each destination sees another port)",
            false => "no",
            null => "unknown (fewer than two IPv4 servers answered)",
        });
        Line("Port mapping:", services.Count == 0 ? "none" : string.Join(", ", services));
        Line("Gateway:", report.Gateway ?? AdminText.None);
        Line("Preferred region:", report.PreferredRegion is { } preferred ? $"{preferred} ({Code(map, preferred)})" : AdminText.None);
        output.WriteLine();

        var regions = new TextTable("REGION", "CODE", "LATENCY", "IPV4", "IPV6");
        foreach (var region in report.Regions)
        {
            regions.Add(region.RegionId.ToString(CultureInfo.InvariantCulture), region.Code, Ms(region.LatencyMs), Ms(region.LatencyV4Ms), Ms(region.LatencyV6Ms));
        }

        regions.WriteTo(output);

        void Line(string label, string value) => output.WriteLine($"{label,-18}{value}");
    }

    private static string Code(RelayMap map, int region) => map.Regions.FirstOrDefault(r => r.Id == region)?.Code ?? "?";

    /// <summary>No source given: the local daemon measures against the relays of its own map.</summary>
    private static async Task<int> FromDaemonAsync(string? socketOption, bool json, TextWriter output, CancellationToken ct)
    {
        var socket = LocalApiSocket.Resolve(socketOption);
        string reportJson;
        try
        {
            using var client = new LocalApiClient(socket);
            reportJson = await client.NetcheckJsonAsync(ct).ConfigureAwait(false);
        }
        catch (LocalApiException e) when (e.Code == LocalApiErrors.Unavailable)
        {
            throw NetcheckFailure.Usage($"no daemon answers at {socket}; give what to measure against: --relay-map FILE, --server URL or --stun HOST:PORT");
        }
        catch (LocalApiException e)
        {
            throw new NetcheckFailure(e.Message, e.Code == LocalApiErrors.Invalid ? CommandLine.UsageError : CommandLine.Failure);
        }

        if (json)
        {
            await output.WriteLineAsync(reportJson).ConfigureAwait(false);
        }
        else
        {
            var report = JsonSerializer.Deserialize(reportJson, NetcheckJsonContext.Default.NetcheckReport)!;
            var map = new RelayMap { Regions = [.. report.Regions.Select(r => new RelayRegion { Id = r.RegionId, Code = r.Code })] };
            WriteText(report, map, output);
        }

        return CommandLine.Success;
    }

    private static string Ms(double? milliseconds) =>
        milliseconds is { } ms ? ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms" : AdminText.None;

    /// <summary>A netcheck that cannot start: one line on stderr and this exit code.</summary>
    private sealed class NetcheckFailure(string message, int exitCode = CommandLine.Failure) : Exception(message)
    {
        public int ExitCode { get; } = exitCode;

        public static NetcheckFailure Usage(string message) => new(message, CommandLine.UsageError);
    }
}
