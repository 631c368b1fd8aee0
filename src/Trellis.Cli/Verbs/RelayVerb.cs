using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Trellis.Cli.Metrics;
using Trellis.Core.Metrics;
using Trellis.Core.Tls;
using Trellis.Crypto;
using Trellis.Core.Transport;
using Trellis.Net.Stun;
using Trellis.Relay.Server;

namespace Trellis.Cli.Verbs;

/// <summary>
/// `trellis relay`: a standalone relay with STUN beside it, for a region away from the control
/// server. It admits the nodes the control server vouches for (asked with the region's mesh key) and
/// meshes with the other relays of its region.
/// </summary>
internal static class RelayVerb
{
    public const string MeshKeyVariable = "TRELLIS_RELAY_MESH_KEY";

    /// <summary>In the data directory: the relay keys of mesh peers given without #KEY, as first seen.</summary>
    public const string MeshPeerKeysFileName = "mesh-peer-keys";

    private static readonly TimeSpan AdmissionConnectTimeout = TimeSpan.FromSeconds(5); // the admission query's own deadline

    public static Command Build()
    {
        var listen = new Option<string>("--listen") { Description = "Listen URL (https needs --tls-cert/--tls-key).", DefaultValueFactory = _ => "http://0.0.0.0:8443" };
        var control = new Option<string?>("--control-url") { Description = "The control server that says which nodes may use this relay." };
        var meshKeyFile = new Option<FileInfo?>("--mesh-key-file") { Description = $"File holding the region's mesh key (or set {MeshKeyVariable}); the control server's relay-mesh-key." };
        var meshPeers = new Option<string[]>("--mesh-peer") { Description = "Another relay of this region to mesh with, e.g. https://relay2.example.com/relay#KEY with the relay key it prints at start; without #KEY its key is trusted on first use and kept (repeatable).", AllowMultipleArgumentsPerToken = false };
        var trustedProxies = new Option<string[]>("--trusted-proxy") { Description = "A reverse proxy (address or network, e.g. 10.0.0.0/8) whose X-Forwarded-For names the client, for the per-address limit (repeatable; default none: the socket's peer is the client).", AllowMultipleArgumentsPerToken = false };
        var insecure = new Option<bool>("--insecure") { Description = "Allow an http:// --control-url, and http:// mesh peers without #KEY: the mesh key then crosses the network unprotected." };
        var dataDir = new Option<DirectoryInfo>("--data-dir") { Description = "Where the relay keeps its private key.", DefaultValueFactory = _ => new DirectoryInfo(Environment.IsPrivilegedProcess ? "/var/lib/trellis-relay" : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "trellis-relay")) };
        var tlsCert = new Option<FileInfo?>("--tls-cert") { Description = "TLS certificate (PEM)." };
        var tlsKey = new Option<FileInfo?>("--tls-key") { Description = "TLS private key (PEM)." };
        var stunPort = new Option<int>("--stun-port") { Description = "UDP port of the STUN server beside the relay (default 3478; 0 turns it off).", DefaultValueFactory = _ => StunServer.DefaultPort };
        var rate = new Option<long>("--rate-limit") { Description = "Bytes per second each client may send through the relay (default 0: unlimited)." };
        var metrics = new Option<string?>("--metrics-listen") { Description = "Serve Prometheus metrics at http://ADDRESS:PORT/metrics, on a listener of its own, e.g. 127.0.0.1:9091 (default off)." };
        var caCert = CaCertOption.Create("the control server's and the mesh peers' certificates");
        var logFormat = ConsoleLogging.FormatOption();
        var command = new Command("relay", "Run a standalone relay (with STUN) for the nodes of a control server.")
        {
            listen, control, meshKeyFile, meshPeers, dataDir, tlsCert, tlsKey, stunPort, rate, trustedProxies, insecure, metrics, caCert, logFormat,
        };
        command.SetAction(parse =>
        {
            var settings = new Settings(
                parse.GetValue(listen)!, parse.GetValue(control), parse.GetValue(meshKeyFile), parse.GetValue(meshPeers) ?? [],
                parse.GetValue(dataDir)!, parse.GetValue(tlsCert), parse.GetValue(tlsKey), parse.GetValue(stunPort), parse.GetValue(rate), parse.GetValue(trustedProxies) ?? [], parse.GetValue(insecure), parse.GetValue(metrics), parse.GetValue(caCert), parse.GetValue(logFormat)!);
            return Run(settings, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        });
        return command;
    }

    private sealed record Settings(
        string Listen, string? Control, FileInfo? MeshKeyFile, string[] MeshPeers, DirectoryInfo DataDir, FileInfo? TlsCert, FileInfo? TlsKey, int StunPort, long RateLimit, string[] TrustedProxies, bool Insecure, string? MetricsListen, string? CaCert, string LogFormat);

    private static int Run(Settings settings, TextWriter output, TextWriter error)
    {
        IPNetwork[] proxies = [];
        PrivateCa? ca = null;
        if ((Validate(settings, out var meshKey, out var control, out var peers) ?? ParseProxies(settings.TrustedProxies, out proxies) ?? LoadCa(settings.CaCert, out ca)) is { } problem)
        {
            error.WriteLine($"trellis relay: {problem}");
            return CommandLine.UsageError;
        }

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            return RunAsync(settings, meshKey!, control!, peers, proxies, ca, output, stop.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or System.Net.Sockets.SocketException or System.Security.Cryptography.CryptographicException)
        {
            error.WriteLine($"trellis relay: {e.Message}");
            return CommandLine.Failure;
        }
    }

    private static string? Validate(Settings s, out string? meshKey, out Uri? control, out Uri[] peers)
    {
        meshKey = null;
        control = null;
        peers = [];
        if (!Uri.TryCreate(s.Listen, UriKind.Absolute, out var listen) || (listen.Scheme != "http" && listen.Scheme != "https"))
        {
            return $"--listen '{s.Listen}' must be an http:// or https:// URL, e.g. https://0.0.0.0:443";
        }

        if (listen.Scheme == "https" && (s.TlsCert is null || s.TlsKey is null))
        {
            return "an https listen address needs --tls-cert and --tls-key";
        }

        if (s.Control is null || !IsHttpUrl(s.Control, out control))
        {
            return "--control-url is required: the control server that knows the nodes (e.g. https://trellis.example.com)";
        }

        // The admission query carries the mesh key as a bearer token: over http anyone on the path reads it.
        if (control.Scheme == Uri.UriSchemeHttp && !s.Insecure)
        {
            return $"--control-url {control} is plain HTTP: the relay would send the region's mesh key to it in the clear. "
                   + $"Use {WithHttps(control)}, or pass --insecure if the network between them is private";
        }

        var parsed = new List<Uri>();
        foreach (var text in s.MeshPeers)
        {
            if (!MeshPeerUrl.TryParse(text, out var peer, out var pinned, out var problem))
            {
                return $"--mesh-peer {problem}";
            }

            // The mesh key is sealed to the key the peer presents: over http, without a pinned key, that could be anyone's.
            if (peer.Scheme == Uri.UriSchemeHttp && pinned is null && !s.Insecure)
            {
                return $"--mesh-peer {peer} is plain HTTP without the peer's relay key: anyone on the path could pose as that relay and take the mesh key. "
                       + $"Use {WithHttps(peer)}, or pin the key it prints as \"relay key\" with --mesh-peer {peer}#KEY, or pass --insecure if the network between them is private";
            }

            parsed.Add(new Uri(text));
        }

        peers = [.. parsed];

        meshKey = s.MeshKeyFile is { } file
            ? (file.Exists ? File.ReadAllText(file.FullName).Trim() : null)
            : Environment.GetEnvironmentVariable(MeshKeyVariable);
        if (s.MeshKeyFile is { Exists: false })
        {
            return $"mesh key file {s.MeshKeyFile.FullName} does not exist";
        }

        if (meshKey is not { Length: >= 32 })
        {
            return $"a mesh key of 32+ characters is required (--mesh-key-file or {MeshKeyVariable}); it is the control server's relay-mesh-key";
        }

        if (s.MetricsListen is not null && MetricsAddress.TryParse(s.MetricsListen, out var metricsError) is null)
        {
            return $"--metrics-listen {metricsError}";
        }

        if (s.StunPort is < 0 or > 65535)
        {
            return "--stun-port must be between 0 and 65535";
        }

        return s.RateLimit < 0 ? "--rate-limit must not be negative" : null;
    }

    private static string WithHttps(Uri url) => Uri.UriSchemeHttps + url.ToString()[Uri.UriSchemeHttp.Length..];

    private static bool IsHttpUrl(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? url) =>
        Uri.TryCreate(text, UriKind.Absolute, out url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);

    private static string? ParseProxies(string[] texts, out IPNetwork[] proxies)
    {
        var parsed = new List<IPNetwork>();
        proxies = [];
        foreach (var text in texts)
        {
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (!IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address))
            {
                return $"--trusted-proxy '{text}' must be an address or a network, e.g. 10.0.0.5 or 10.0.0.0/8";
            }

            var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            var prefix = bits;
            if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits))
            {
                return $"--trusted-proxy '{text}' needs a prefix length from 0 to {bits}, e.g. {address}/{bits} for that one proxy";
            }

            var network = new IPNetwork(Masked(address, prefix), prefix);
            if (!network.BaseAddress.Equals(address))
            {
                return $"--trusted-proxy '{text}' has host bits set; did you mean {network}?";
            }

            parsed.Add(network);
        }

        proxies = [.. parsed];
        return null;
    }

    private static IPAddress Masked(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xff << (8 - keep));
        }

        return new IPAddress(bytes);
    }

    private static string? LoadCa(string? flag, out PrivateCa? ca)
    {
        ca = null;
        try
        {
            ca = PrivateCa.FromFlagOrEnvironment(flag);
            return null;
        }
        catch (InvalidDataException e)
        {
            return e.Message;
        }
    }

    private static async Task<int> RunAsync(Settings s, string meshKey, Uri control, Uri[] peers, IPNetwork[] proxies, PrivateCa? ca, TextWriter output, CancellationToken stop)
    {
        var privateKey = PrivateKeyFile.LoadOrCreate(Path.Combine(s.DataDir.FullName, "relay.key"));
        using var certificate = s.TlsCert is null ? null : X509Certificate2.CreateFromPemFile(s.TlsCert.FullName, s.TlsKey!.FullName);
        using var loggers = LoggerFactory.Create(l => l.SetMinimumLevel(LogLevel.Warning).AddTrellisConsole(s.LogFormat));
        using var admission = new ControlServerAdmission(
            control, meshKey, logger: loggers.CreateLogger<ControlServerAdmission>(), handler: AddressByAddressConnector.Handler(AdmissionConnectTimeout, ca));
        var options = new RelayServerOptions
        {
            PrivateKey = privateKey,
            Admission = admission,
            MeshKey = meshKey,
            MeshPeers = peers,
            MeshPeerKeyFile = Path.Combine(s.DataDir.FullName, MeshPeerKeysFileName),
            PrivateCa = ca,
            TrustedProxies = proxies,
            RateLimitBytesPerSecond = s.RateLimit,
        };
        await using var stun = s.StunPort == 0 ? null : new StunServer(new StunServerOptions { Port = s.StunPort });
        if (stun is not null)
        {
            await stun.StartAsync(stop).ConfigureAwait(false);
        }

        await using var relay = await RelayHost.StartAsync(options, s.Listen, certificate, logging: l => l.SetMinimumLevel(LogLevel.Warning).AddTrellisConsole(s.LogFormat), cancellationToken: stop).ConfigureAwait(false);
        await using var metrics = s.MetricsListen is null ? null : await MetricsListener.StartAsync(MetricsAddress.Parse(s.MetricsListen, "--metrics-listen"), stop).ConfigureAwait(false);
        output.WriteLine($"trellis relay: listening on {relay.RelayUrl}");
        output.WriteLine($"  relay key:        {X25519.PublicKey(privateKey).ToBase64()}");
        output.WriteLine($"  control server:   {control}");
        output.WriteLine($"  mesh peers:       {(peers.Length == 0 ? "none" : string.Join(", ", peers.Select(p => p.OriginalString)))}");
        output.WriteLine($"  trusted proxies:  {(proxies.Length == 0 ? "none" : string.Join(", ", proxies))}");
        output.WriteLine($"  STUN:             {(stun is null ? "off" : $"UDP {stun.Port}")}");
        output.WriteLine($"  metrics:          {metrics?.Url.ToString() ?? "off"}");
        await output.FlushAsync(stop).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGINT/SIGTERM: clients are told Restarting as the host stops
        }

        return CommandLine.Success;
    }
}
