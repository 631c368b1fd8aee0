using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Trellis.Cli.Metrics;
using Trellis.Control.Server;
using Trellis.Control.Store;
using Trellis.Crypto;

namespace Trellis.Cli.Verbs;

/// <summary>`trellis server`: the control server, zero-configuration on SQLite in its data directory.</summary>
internal static class ServerVerb
{
    public static Command Build()
    {
        var config = new Option<string?>("--config") { Description = "A YAML configuration file (flags and TRELLIS_* variables override it)." };
        var options = ServerOptionsLoader.Keys.ToDictionary(k => k, k => new Option<string?>("--" + k) { Description = Describe(k) });
        var logFormat = ConsoleLogging.FormatOption();
        var command = new Command("server", "Run the control server (node registration, maps, admin API).");
        command.Options.Add(config);
        command.Options.Add(logFormat);
        foreach (var option in options.Values)
        {
            command.Options.Add(option);
        }

        command.Subcommands.Add(MigrateToPostgresVerb.Build());
        command.SetAction(parse => Run(
            parse.GetValue(config),
            options.ToDictionary(kv => kv.Key, kv => parse.GetValue(kv.Value)),
            parse.GetValue(logFormat)!,
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error));
        return command;
    }

    private static string Describe(string key) => key switch
    {
        "listen" => "Listen URL (default http://0.0.0.0:8080; https needs --tls-cert/--tls-key).",
        "public-url" => "The URL nodes use, when it differs (reverse proxy).",
        "data-dir" => "Data directory: server key, SQLite database, admin socket (default /var/lib/trellis as root).",
        "tls-cert" => "TLS certificate (PEM).",
        "tls-key" => "TLS private key (PEM).",
        "database" => "SQLite file path, or a PostgreSQL connection string (Host=...;Username=...;Database=...).",
        "ipv4-prefix" => "Overlay IPv4 prefix (default 100.64.0.0/10).",
        "ipv6-prefix" => "Overlay IPv6 ULA /48 (default: generated at first start and kept).",
        "ephemeral-timeout" => "Delete ephemeral nodes offline this long (default 5m).",
        "keepalive" => "Map stream keepalive interval (default 60s).",
        "admin-socket" => "The local admin socket (default DATA-DIR/admin.sock).",
        "relay" => "Serve the embedded relay at /relay and STUN (default true).",
        "stun-port" => "UDP port of the embedded STUN server (default 3478; 0 turns it off).",
        "relay-mesh-key" => "Secret shared with standalone relays of this deployment (32+ characters; better in TRELLIS_RELAY_MESH_KEY).",
        "max-connections" => "Node connections held at once; more are refused with 503 (default 10000).",
        "max-connections-per-address" => "Node connections per IPv4 address or IPv6 /64, 429 beyond; a local proxy is counted by X-Forwarded-For (default 64; 0 for no limit).",
        "handshake-timeout" => "A node must finish its control handshake within this (default 10s).",
        "idle-timeout" => "Close a node connection that sends nothing, not even a WebSocket ping, this long (default 90s; nodes ping every 25s).",
        "max-node-message" => "Largest control message a node may send, in bytes (default 1048576).",
        "node-key-expiry" => "Node keys expire this long after the node authenticated or was approved, e.g. 180d (default off).",
        "max-pending-nodes" => "Most nodes that may wait for approval at once; more registrations without an auth key are refused (default 100).",
        "pending-node-expiry" => "Delete nodes nobody approved within this (default 24h).",
        "policy-file" => "The access policy as a HuJSON file, reloaded when it changes (default: the policy set with `trellis policy set`, if any).",
        "dns-base-domain" => "Nodes are NAME.BASE under this domain (default trellis.internal); the YAML's dns: section also sets search domains, nameservers, split-dns and extra-records.",
        "metrics-listen" => "Serve Prometheus metrics at http://ADDRESS:PORT/metrics, on a listener of its own, e.g. 127.0.0.1:9090 (default off).",
        _ => key,
    };

    private static int Run(string? configFile, Dictionary<string, string?> flags, string logFormat, TextWriter output, TextWriter error)
    {
        ServerOptions options;
        try
        {
            var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .ToDictionary(e => (string)e.Key, e => (string?)e.Value);
            options = ServerOptionsLoader.Load(configFile, flags, environment);
        }
        catch (ServerConfigurationException e)
        {
            error.WriteLine($"trellis server: {e.Message}");
            return CommandLine.UsageError;
        }

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            return RunAsync(options, logFormat, output, error, stop.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is ServerConfigurationException or DatabaseUnusableException or IOException or UnauthorizedAccessException
                                      or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            error.WriteLine($"trellis server: {e.Message}");
            return CommandLine.Failure;
        }
    }

    private static async Task<int> RunAsync(ServerOptions options, string logFormat, TextWriter output, TextWriter error, CancellationToken stop)
    {
        await using var host = await ControlServerHost.StartAsync(options, logging: l => l
            .SetMinimumLevel(LogLevel.Information) // registrations, deletions and admin actions with their actor: the audit trail
            .AddFilter("Microsoft", LogLevel.Warning)
            .AddTrellisConsole(logFormat), cancellationToken: stop).ConfigureAwait(false);
        await using var metrics = options.MetricsListen is null ? null : await MetricsListener.StartAsync(options.MetricsListen, stop).ConfigureAwait(false);
        var key = X25519.PublicKey(ServerKey.LoadOrCreate(options.DataDirectory));
        output.WriteLine($"trellis server: listening on {host.Url}");
        output.WriteLine($"  public URL:       {options.PublicUrl ?? host.Url.ToString().TrimEnd('/')} (node protocol at /control)");
        output.WriteLine($"  server key:       {key.ToBase64()}");
        output.WriteLine($"  database:         {(options.UsesPostgres ? "PostgreSQL" : options.SqlitePath)}");
        output.WriteLine(options.Relay
            ? $"  relay:            /relay, key {X25519.PublicKey(ServerKey.LoadOrCreate(options.DataDirectory, ServerKey.RelayFileName)).ToBase64()}; STUN {(options.StunPort == 0 ? "off" : $"on UDP {options.StunPort}")}"
            : "  relay:            off");
        output.WriteLine($"  metrics:          {metrics?.Url.ToString() ?? "off (metrics-listen)"}");
        var policy = host.Policy.Current;
        output.WriteLine(policy switch
        {
            { Origin: Trellis.Control.AccessControl.PolicyOrigin.None } => "  access policy:    none: every node can reach every other",
            { Policy: Trellis.Control.AccessControl.DenyAllPolicy } => $"  access policy:    refused (see the log), from {policy.Describe()}: no node can reach another until it is fixed",
            _ => $"  access policy:    {policy.Rules?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} rules from {policy.Describe()}",
        });
        await output.FlushAsync(stop).ConfigureAwait(false);

        // Returns on SIGINT/SIGTERM, or when the host stops by itself (a failed background
        // service): then exit non-zero so a supervisor such as systemd restarts the server.
        await host.WaitForShutdownAsync(stop).ConfigureAwait(false);
        if (!stop.IsCancellationRequested)
        {
            await error.WriteLineAsync("trellis server: stopped unexpectedly (see the log above); exiting so that the service manager restarts it").ConfigureAwait(false);
            return CommandLine.Failure;
        }

        return CommandLine.Success;
    }
}
