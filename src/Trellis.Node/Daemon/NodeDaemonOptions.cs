using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Core.Tls;
using Trellis.Node.Control;
using Trellis.Node.Engine;
using Trellis.Node.LocalApi;
using Trellis.Node.State;

namespace Trellis.Node.Daemon;

/// <summary>Everything settable per daemon, so several can run on one machine (the lab does).</summary>
public sealed record NodeDaemonOptions
{
    public const string DefaultTunName = "trellis0";

    public const int DefaultListenPort = 41641;

    /// <summary>Creates the data plane; called at start and again after a logout (the node key changes).</summary>
    public required Func<EngineFactoryArgs, IEngine> EngineFactory { get; init; }

    public string StateDirectory { get; init; } = State.StateDirectory.DefaultPath();

    public string SocketPath { get; init; } = LocalApiSocket.DefaultPath;

    public string TunName { get; init; } = DefaultTunName;

    public int ListenPort { get; init; } = DefaultListenPort;

    /// <summary>A private CA (--ca-cert) trusted beside the system's roots by the control connection and the relay clients.</summary>
    public PrivateCa? PrivateCa { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Adjusts each control client's options (tests shorten delays).</summary>
    public Func<ControlClientOptions, ControlClientOptions>? ConfigureControl { get; init; }

    /// <summary>How long `up` waits for the server to register the node and send its map.</summary>
    public TimeSpan UpTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the node's endpoints are gathered again (address changes are also noticed at once).</summary>
    public TimeSpan EndpointRefreshInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The mesh resolver and host DNS; null (in-process tests) runs no resolver and leaves the host's DNS alone.</summary>
    public Dns.NodeDnsOptions? Dns { get; init; }

    /// <summary>
    /// Starts a Prometheus /metrics listener at an address (the host's exporter; the daemon's library
    /// takes no exporter dependency) and stops it when disposed. Null: the metrics-listen setting is refused.
    /// </summary>
    public Func<System.Net.IPEndPoint, CancellationToken, Task<IAsyncDisposable>>? MetricsListener { get; init; }

    /// <summary>Who may use the local API; default root and the daemon's own user.</summary>
    public Func<uint, bool>? AllowedUid { get; init; }
}
