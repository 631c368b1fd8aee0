using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.Control.AccessControl;
using Trellis.Control.Admin;
using Trellis.Control.Mesh;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Policy;
using Trellis.Control.Replicas;
using Trellis.Control.Sso;
using Trellis.Control.Store;
using Trellis.Control.WebConsole;
using Trellis.Core.Control;
using Trellis.Crypto;
using Trellis.Net.Stun;
using Trellis.Relay.Server;

namespace Trellis.Control.Server;

/// <summary>
/// `trellis server`: Kestrel serving the node protocol (GET /key, WebSocket /control) and health,
/// on a migrated store, with the live mesh loaded from it and the background sweepers running.
/// </summary>
public sealed class ControlServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly StunServer? _stun;
    private readonly RelayServer? _relay;
    private readonly ServerMetrics _metrics;

    /// <summary>Where nodes open their control WebSocket.</summary>
    public const string ControlPath = "/control";

    /// <summary>How often the server pings each node's WebSocket.</summary>
    private static readonly TimeSpan ServerPingInterval = TimeSpan.FromSeconds(30);

    /// <summary>How long a request to the identity provider (discovery, keys, code redemption) may take.</summary>
    private static readonly TimeSpan ProviderTimeout = TimeSpan.FromSeconds(30);

    /// <summary>What a refused node is asked to wait before it tries again.</summary>
    private static readonly TimeSpan RetryRefusedAfter = TimeSpan.FromSeconds(30);

    private ControlServerHost(
        WebApplication app, StunServer? stun, RelayServer? relay, ServerMetrics metrics, ControlService service, PolicyService policy, ConnectionCounters connections, Uri url, ReplicaSetup? replicas)
    {
        _app = app;
        _metrics = metrics;
        _stun = stun;
        _relay = relay;
        Service = service;
        Policy = policy;
        Connections = connections;
        Url = url;
        Replicas = replicas;
    }

    public ControlService Service { get; }

    /// <summary>The change feed, lease and presence of a server on PostgreSQL; null on SQLite.</summary>
    public ReplicaSetup? Replicas { get; }

    /// <summary>The embedded relay; null when it is off.</summary>
    public RelayServer? Relay => _relay;

    /// <summary>The access policy in force and its changes.</summary>
    public PolicyService Policy { get; }

    /// <summary>Node connections open, refused and closed by the limits, since the start.</summary>
    public ConnectionCounters Connections { get; }

    /// <summary>The address actually bound (port 0 resolved).</summary>
    public Uri Url { get; }

    /// <param name="time">The store's and the mesh's clock.</param>
    /// <param name="networkTime">The clock of connection timeouts and log throttling (the system's unless a test fakes it).</param>
    /// <param name="policyCompiler">Compiles access policies (default: the HuJSON policy language, <see cref="HuJsonPolicyCompiler"/>).</param>
    public static async Task<ControlServerHost> StartAsync(
        ServerOptions options,
        TimeProvider? time = null,
        Action<ILoggingBuilder>? logging = null,
        TimeProvider? networkTime = null,
        CancellationToken cancellationToken = default,
        IPolicyCompiler? policyCompiler = null)
    {
        time ??= TimeProvider.System;
        networkTime ??= TimeProvider.System;
        Directory.CreateDirectory(options.DataDirectory);
        var serverKey = ServerKey.LoadOrCreate(options.DataDirectory);
        var replicas = options.UsesPostgres ? ReplicaSetup.Create(options.Database!) : null;
        var contexts = replicas is not null ? TrellisDbContextFactory.Postgres(replicas.ConnectionString) : TrellisDbContextFactory.SqliteFile(options.SqlitePath);
        await contexts.MigrateAsync(cancellationToken).ConfigureAwait(false);
        var store = new ControlStore(contexts, time, new ControlStoreOptions
        {
            IPv4Range = IPNetwork.Parse(options.IPv4Prefix),
            AutoApprovers = [.. options.AutoApprovers.Select(kv => new AutoApprovalRule(IPNetwork.Parse(kv.Key), kv.Value))],
            NodeKeyLifetime = options.NodeKeyExpiry,
            MaxPendingNodes = options.MaxPendingNodes,
            ReplicaOrigin = replicas?.Identity.Origin,
        });
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        IPNetwork? configuredUla = options.IPv6Prefix is null ? null : IPNetwork.Parse(options.IPv6Prefix);
        var ula = await store.GetUlaPrefixAsync(configuredUla, cancellationToken).ConfigureAwait(false);
        if (configuredUla is { } wanted && !wanted.Equals(ula))
        {
            throw new ServerConfigurationException($"this deployment's IPv6 prefix was fixed at its first start as {ula}; the configured {wanted} cannot replace it");
        }

        var builder = WebApplication.CreateSlimBuilder();
        if (logging is not null)
        {
            logging(builder.Logging);
        }

        var listen = new Uri(options.Listen);
        AdminApi.PrepareSocket(options.EffectiveAdminSocket);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var address = listen.Host is "0.0.0.0" or "*" ? IPAddress.Any : listen.Host == "[::]" ? IPAddress.IPv6Any : IPAddress.Parse(listen.Host.Trim('[', ']'));
            kestrel.Listen(address, listen.Port, l =>
            {
                if (listen.Scheme == "https")
                {
                    l.UseHttps(X509Certificate2.CreateFromPemFile(options.TlsCertificate!, options.TlsKey));
                }
            });

            // The server host's own CLI talks here without an API key (root or the server's user only).
            kestrel.ListenUnixSocket(options.EffectiveAdminSocket);
        });

        // The embedded relay's entry names the bound port, known once Kestrel has started (port 0 in tests).
        RelayMap? relayMap = null;
        RelayMap CurrentRelayMap() => Volatile.Read(ref relayMap) ?? options.RelayMap;
        var mesh = new MeshState(CurrentRelayMap, [options.IPv4Prefix, ula.ToString()], options.Dns);
        var counters = new ConnectionCounters();
        var metrics = new ServerMetrics(mesh, counters);

        // Kestrel's own 4 KiB blocks, not the relay host's 32 KiB ones (AddRelayBuffers): every node
        // writing a delta to a slow reader holds a block until its socket drains, and in a join storm
        // thousands of 32 KiB blocks outran the shared array pool, were promoted and died in gen2
        // (docs/BENCHMARKS.md, "Where one server's memory goes"). The embedded relay reads in 4 KiB blocks.
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(mesh);
        SsoLogins? logins = options.Sso is { } sso ? new SsoLogins(new Uri(options.PublicUrl!), networkTime, sso.LoginTimeout) : null;
        if (logins is not null)
        {
            builder.Services.AddSingleton(logins);
        }

        builder.Services.AddSingleton<ControlService>();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<IPolicyCompiler>(new TimedPolicyCompiler(policyCompiler ?? new HuJsonPolicyCompiler(), metrics, networkTime));
        builder.Services.AddSingleton(s => new PolicyService(
            s.GetRequiredService<ControlService>(), s.GetRequiredService<IPolicyCompiler>(), options.PolicyFile, s.GetRequiredService<ILogger<PolicyService>>()));
        builder.Services.AddHostedService<MaintenanceService>();
        replicas?.AddServices(builder.Services, networkTime);
        if (options.PolicyFile is not null)
        {
            builder.Services.AddHostedService<PolicyFileWatcher>();
        }

        AdminApi.AddServices(builder.Services);
        builder.Services.AddListCompression();
        var app = builder.Build();
        app.UseListCompression();
        app.Use(async (context, next) =>
        {
            // Streams (the control WebSocket, the relay's upgrade, the console's events) would record their lifetime, not a latency.
            if (context.WebSockets.IsWebSocketRequest || context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
                || context.Request.Path == ConsoleEventsEndpoint.Path)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            var started = networkTime.GetTimestamp();
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
                metrics.RequestServed(route, networkTime.GetElapsedTime(started));
            }
        });
        app.Use((context, next) =>
        {
            if (context.Request.Path == ControlPath)
            {
                ActivityTrackingUpgrade.Install(context, networkTime);
            }

            return next(context);
        });
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });

        var service = app.Services.GetRequiredService<ControlService>();
        if (replicas is not null)
        {
            await replicas.JoinAsync(store, networkTime, cancellationToken).ConfigureAwait(false);
        }

        await service.LoadAsync(cancellationToken, markAllOffline: replicas is null).ConfigureAwait(false);
        var policy = app.Services.GetRequiredService<PolicyService>();
        await policy.LoadAsync(cancellationToken).ConfigureAwait(false);
        var serverPublic = X25519.PublicKey(serverKey);
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        var connectionLogger = loggers.CreateLogger<NodeConnection>();
        var limiter = new ControlConnectionLimiter(
            options.MaxConnections, options.MaxConnectionsPerAddress, counters, networkTime, loggers.CreateLogger<ControlConnectionLimiter>());
        var limits = new NodeConnectionLimits
        {
            MaxMessage = options.MaxNodeMessage,
            HandshakeTimeout = options.HandshakeTimeout,
            IdleTimeout = options.IdleTimeout,
            Keepalive = options.KeepaliveInterval,
        };

        app.MapGet("/key", () => Results.Json(new ServerKeyResponse(serverPublic.ToBase64()), ServerJsonContext.Default.ServerKeyResponse));
        app.MapGet("/health", () => Results.Json(new HealthResponse("ok", mesh.NodeCount, mesh.SessionCount), ServerJsonContext.Default.HealthResponse));
        app.Map(ControlPath, async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
                await context.Response.WriteAsync("the control channel is a WebSocket\n", context.RequestAborted).ConfigureAwait(false);
                return;
            }

            var network = ClientNetwork.For(context);
            var admission = limiter.TryEnter(network);
            if (admission != ControlConnectionLimiter.Admission.Admitted)
            {
                await RefuseAsync(context, admission, options).ConfigureAwait(false);
                return;
            }

            try
            {
                // Pings, not unsolicited pongs: the node's automatic pong is traffic the idle timeout sees,
                // so a quiet node is heard from even if its own pings are lost or never sent.
                var accept = new WebSocketAcceptContext { KeepAliveInterval = ServerPingInterval, KeepAliveTimeout = options.IdleTimeout };
                using var socket = await context.WebSockets.AcceptWebSocketAsync(accept).ConfigureAwait(false);
                var activity = context.Features.Get<ReceiveActivity>() ?? new ReceiveActivity(networkTime);
                var connection = new NodeConnection(service, serverKey, limits, networkTime, counters, connectionLogger);
                // Shutdown ends the streams at once; otherwise Kestrel would wait out its grace period for them.
                using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, app.Lifetime.ApplicationStopping);
                await connection.RunAsync(socket, activity, ended.Token).ConfigureAwait(false);
            }
            finally
            {
                limiter.Exit(network);
            }
        });

        // The web console signs people in through the identity provider, or with an admin API key.
        var consoleSessions = new ConsoleSessions(networkTime);
        AdminApi.Map(app, service, options, policy, consoleSessions);
        var secureCookie = (options.PublicUrl is { } publicUrl && new Uri(publicUrl).Scheme == Uri.UriSchemeHttps) || listen.Scheme == Uri.UriSchemeHttps;
        var consoleLogger = loggers.CreateLogger(typeof(ConsoleEndpoints));
        ConsoleSignInFlow? consoleFlow = null;
        if (options.Sso is { } ssoOptions && logins is not null)
        {
            var providerClient = new HttpClient { Timeout = ProviderTimeout };
            var provider = new SsoProvider(ssoOptions, providerClient);
            consoleFlow = new ConsoleSignInFlow(
                new ConsoleSignIns(networkTime, ssoOptions.LoginTimeout), consoleSessions, provider, ssoOptions, service, logins.CallbackUrl, secureCookie, consoleLogger);
            SsoEndpoints.Map(app, logins, provider, ssoOptions, service, loggers.CreateLogger(typeof(SsoEndpoints)), consoleFlow);
        }

        ConsoleEndpoints.Map(app, consoleFlow, consoleSessions, service.Store, secureCookie, consoleLogger);
        var feed = new ConsoleLiveFeed(networkTime);
        service.Observe(feed);
        ConsoleEventsEndpoint.Map(app, feed, consoleSessions, service.Store, consoleLogger);

        RelayServer? relay = null;
        ReplicaRelayMesh? relayMesh = null;
        if (options.Relay)
        {
            // Replicas that advertise a public URL mesh their relays (ReplicaRelayMesh); with no mesh
            // key configured they use one derived from the server key they all share.
            var meshesReplicas = replicas is not null && options.PublicUrl is not null;
            relay = new RelayServer(
                new RelayServerOptions
                {
                    PrivateKey = ServerKey.LoadOrCreate(options.DataDirectory, ServerKey.RelayFileName),
                    Admission = new MeshAdmission(mesh),
                    MeshKey = options.RelayMeshKey ?? (meshesReplicas ? ReplicaMeshKey.Derive(serverKey) : null),
                },
                TimeProvider.System, // relay timeouts and rate limits run on the network's clock, not the store's
                loggers);
            app.MapRelay(RelayNode.RelayPath, relay);
            if (meshesReplicas)
            {
                relayMesh = new ReplicaRelayMesh(relay, replicas!.Identity.Origin, loggers.CreateLogger<ReplicaRelayMesh>());
            }
        }

        RelayEndpoints.Map(app, mesh, CurrentRelayMap, options.RelayMeshKey);

        var stun = await StartStunAsync(options, listen, cancellationToken).ConfigureAwait(false);
        try
        {
            if (replicas is not null)
            {
                // Before the first node connects, so its first map names the replicas. Only a configured
                // public URL is advertised: the address bound may not be one nodes can reach.
                await app.Services.GetRequiredService<ReplicaDirectory>()
                    .AnnounceAsync(options.PublicUrl is { } url ? new Uri(url) : null, relayMesh, cancellationToken).ConfigureAwait(false);
            }

            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (stun is not null)
            {
                await stun.DisposeAsync().ConfigureAwait(false);
            }

            if (relay is not null)
            {
                await relay.DisposeAsync().ConfigureAwait(false);
            }

            metrics.Dispose();
            // A server that could not bind (its port taken) must not leave its services behind.
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        AdminApi.SecureSocket(options.EffectiveAdminSocket);
        var bound = new Uri(app.Urls.First(u => !u.StartsWith("http://unix:", StringComparison.Ordinal)));
        Volatile.Write(ref relayMap, options.EffectiveRelayMap(options.PublicUrlFor(bound)));
        return new ControlServerHost(app, stun, relay, metrics, service, policy, counters, bound, replicas);
    }

    /// <summary>Refuses a node connection over a limit before the upgrade, saying which limit and when to retry.</summary>
    private static async Task RefuseAsync(HttpContext context, ControlConnectionLimiter.Admission admission, ServerOptions options)
    {
        var serverFull = admission == ControlConnectionLimiter.Admission.ServerFull;
        context.Response.StatusCode = serverFull ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = ((int)RetryRefusedAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var reason = serverFull
            ? $"this control server holds its maximum of {options.MaxConnections} node connections (max-connections); try again later\n"
            : $"your address (or its IPv6 /64) holds the maximum of {options.MaxConnectionsPerAddress} node connections (max-connections-per-address); close some or try again later\n";
        await context.Response.WriteAsync(reason, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The embedded STUN server, on the listen address when that is a specific one (all addresses otherwise).</summary>
    private static async Task<StunServer?> StartStunAsync(ServerOptions options, Uri listen, CancellationToken cancellationToken)
    {
        if (!options.Relay || options.StunPort == 0)
        {
            return null;
        }

        IPAddress? address = IPAddress.TryParse(listen.Host.Trim('[', ']'), out var specific) && !specific.Equals(IPAddress.Any) && !specific.Equals(IPAddress.IPv6Any) ? specific : null;
        var stun = new StunServer(new StunServerOptions { Port = options.StunPort, Address = address });
        try
        {
            await stun.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            await stun.DisposeAsync().ConfigureAwait(false);
            throw new ServerConfigurationException($"cannot serve STUN on UDP port {options.StunPort}: {e.Message} (set --stun-port, or 0 to turn STUN off)");
        }

        return stun;
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        if (_relay is not null)
        {
            await _relay.DisposeAsync().ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        _metrics.Dispose();
        if (_stun is not null)
        {
            await _stun.DisposeAsync().ConfigureAwait(false);
        }

        if (Replicas is not null)
        {
            await Replicas.DisposeAsync().ConfigureAwait(false);
        }
    }
}
