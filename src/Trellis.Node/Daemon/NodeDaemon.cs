using System.Net.NetworkInformation;
using Microsoft.Extensions.Logging;
using Trellis.Core.Build;
using Trellis.Node.Control;
using Trellis.Node.Engine;
using Trellis.Node.LocalApi;
using Trellis.Node.State;

namespace Trellis.Node.Daemon;

/// <summary>
/// `trellis daemon`: owns the state directory, the data plane (an <see cref="IEngine"/> from the
/// factory it is given) and, while the node is wanted up, a <see cref="ControlClient"/>; serves the
/// local API. Every new map goes to the engine and to the on-disk cache (at most one write per
/// <see cref="MapCacheWriter.Interval"/>); at start the cached map is
/// applied at once, so tunnels work while the control server is unreachable.
/// </summary>
public sealed partial class NodeDaemon : ILocalApiBackend, IAsyncDisposable
{
    private readonly NodeDaemonOptions _options;
    private readonly StateDirectory _state;
    private readonly MapCacheWriter _mapCache;
    private readonly ILogger _logger;

    // Serializes up, down, logout and the reaction to a session the server ended; guards what follows.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile NodePrefs _prefs;
    private volatile ControlSession? _session;
    private volatile string? _lastError;
    private volatile bool _needsLogin;
    private volatile bool _starting = true;

    // Serializes engine calls; guards what follows.
    private readonly SemaphoreSlim _applyLock = new(1, 1);
    private volatile IEngine? _engine;
    private volatile NetMap? _applied;

    // The replicas' URLs the last map named (cached or received) and the server setting it came
    // under: a later session for that setting dials them too after the configured URLs.
    private volatile LearnedReplicas? _replicas;

    // The cached map restored at start, for the first session to resume its map stream from (taken by it).
    private RestoredMap? _restored;
    private volatile string? _engineError;
    private Dns.NodeDns? _dns;

    private LocalApiServer? _api;
    private ITimer? _endpointTimer;

    private NodeDaemon(NodeDaemonOptions options, StateDirectory state, ILogger logger)
    {
        _options = options;
        _state = state;
        _mapCache = new MapCacheWriter(state, options.Time, logger);
        _logger = logger;
        _prefs = state.LoadPrefs();
    }

    public string SocketPath => _api?.SocketPath ?? _options.SocketPath;

    public string StateDirectory => _state.Path;

    /// <summary>
    /// Locks the state directory, claims the socket and serves the local API, then creates the engine,
    /// applies the cached map if the node is wanted up and starts connecting. Fails with a clear
    /// <see cref="IOException"/> when another daemon holds the state directory or the socket.
    /// </summary>
    public static async Task<NodeDaemon> StartAsync(NodeDaemonOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var logger = options.LoggerFactory.CreateLogger<NodeDaemon>();
        var state = State.StateDirectory.Open(options.StateDirectory, logger);
        NodeDaemon? daemon = null;
        try
        {
            LocalApiSocket.Prepare(Path.GetFullPath(options.SocketPath)); // before the TUN exists: a second daemon fails cleanly
            daemon = new NodeDaemon(options, state, logger);

            // The local API listens first. What follows (the TUN, the cached map's addresses and routes,
            // the metrics listener, the control connection) takes longer; meanwhile the status says
            // "starting" and commands wait at the gate, which start-up holds until it is done.
            await daemon._gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                daemon._api = await LocalApiServer.StartAsync(options.SocketPath, daemon, options.LoggerFactory, options.AllowedUid, cancellationToken).ConfigureAwait(false);
                daemon._engine = daemon.CreateEngine();
                daemon._dns = options.Dns is { } dns ? new Dns.NodeDns(dns, state.Path, options.TunName, options.LoggerFactory) : null;
                await daemon.RestoreCachedMapAsync().ConfigureAwait(false);
                await daemon.ServeMetricsQuietlyAsync(daemon._prefs.MetricsListen).ConfigureAwait(false);
                daemon.WatchEndpoints();
                daemon.WatchPlainPeers();
                if (daemon._prefs is { WantUp: true, ServerUrl: not null } prefs)
                {
                    daemon.StartSession(prefs, authKey: null);
                }
            }
            finally
            {
                daemon._starting = false;
                daemon._gate.Release();
            }

            return daemon;
        }
        catch
        {
            if (daemon is not null)
            {
                await daemon.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                state.Dispose();
            }

            throw;
        }
    }

    /// <summary>One discovery ping to a peer named by hostname, overlay address or node key.</summary>
    public async Task<PingResponse> PingAsync(PingRequest request, CancellationToken cancellationToken)
    {
        var map = _applied ?? throw new LocalApiException(LocalApiErrors.Invalid, "this node has no peers yet: run `trellis up` first");
        var wanted = request.Peer.Trim();
        var peer = map.Peers.Values.FirstOrDefault(p =>
            string.Equals(p.Name, wanted, StringComparison.OrdinalIgnoreCase) ||
            p.NodeKey == wanted ||
            p.Addresses.Any(a => a.Split('/')[0] == wanted))
            ?? throw new LocalApiException(LocalApiErrors.Invalid, $"no peer is called or has the address '{wanted}'; `trellis status` lists them");
        var engine = _engine ?? throw new LocalApiException(LocalApiErrors.Failed, "the data plane is not running");
        if (request.TimeoutMs is < 1 or > 60_000)
        {
            throw new LocalApiException(LocalApiErrors.Invalid, "the ping timeout must be between 1 ms and 60 s");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMilliseconds(request.TimeoutMs));
        EnginePing? answer;
        try
        {
            answer = await engine.PingAsync(peer.NodeKey, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            answer = null;
        }

        return answer is null
            ? throw new LocalApiException(LocalApiErrors.Timeout, $"no answer from {peer.Name} within {request.TimeoutMs} ms")
            : new PingResponse
            {
                Hostname = peer.Name,
                Address = peer.Addresses.FirstOrDefault()?.Split('/')[0] ?? "",
                Path = answer.Path,
                Endpoint = answer.Endpoint,
                Relay = answer.Relay,
                LatencyMs = answer.RoundTrip.TotalMilliseconds,
            };
    }

    /// <summary>Measures connectivity against the relays and STUN servers of the current map.</summary>
    public async Task<Trellis.Net.Netcheck.NetcheckReport> NetcheckAsync(CancellationToken cancellationToken)
    {
        var map = _applied ?? throw new LocalApiException(LocalApiErrors.Invalid, "this node has no map yet, so no relays to measure: run `trellis up` first");
        if (map.RelayMap.Regions.Count == 0)
        {
            throw new LocalApiException(LocalApiErrors.Invalid, "this node's network has no relays or STUN servers to measure against");
        }

        return await new Trellis.Net.Netcheck.Netchecker().RunAsync(map.RelayMap, cancellationToken).ConfigureAwait(false);
    }

    public StatusResponse Status()
    {
        var session = _session;
        var control = session?.Client.Status;
        var applied = _applied;
        var state = control?.State switch
        {
            null when _starting => NodeStates.Starting,
            null => _needsLogin ? NodeStates.NeedsLogin : NodeStates.Stopped,
            ControlState.Pending => NodeStates.Pending,
            ControlState.Running => NodeStates.Running,
            ControlState.Rejected or ControlState.Ended => NodeStates.NeedsLogin,
            ControlState.Stopped => NodeStates.Stopped,
            _ => control.MapStreams > 0 || applied is not null ? NodeStates.Reconnecting : NodeStates.Starting,
        };
        string?[] errors = [control?.Error ?? _lastError, _engineError, _dns?.Error];
        var error = string.Join("; ", errors.Where(e => e is not null));
        return StatusBuilder.Build(
            state,
            (session?.Prefs ?? _prefs).ServerUrl,
            error.Length == 0 ? null : error,
            control?.State == ControlState.Pending ? control.ApproveHint : null,
            control?.Self ?? applied?.Self,
            control?.State == ControlState.Running,
            applied,
            EngineStatus()) with
            {
                ConnectedTo = control?.Server?.AbsoluteUri,
                ServerVersion = control?.ServerVersion,
                Version = BuildInfo.Short,
                FullMaps = control is null ? 0 : control.MapStreams - control.MapResumes,
                MapResumes = control?.MapResumes ?? 0,
                AuthUrl = control?.State == ControlState.Pending ? control.AuthUrl : null,
                RenewUrl = control?.State == ControlState.Running ? control.RenewUrl : null,
                RenewHint = control?.State == ControlState.Running ? control.RenewHint : null,
                Memory = StatusMemory.Now(),
            };
    }

    private EngineStatus? EngineStatus()
    {
        try
        {
            return _engine?.Status();
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or IOException)
        {
            return null;
        }
    }

    private IEngine CreateEngine()
    {
        var engine = _options.EngineFactory(new EngineFactoryArgs(
            _state.NodeKey, _state.DiscoKey, _options.TunName, _options.ListenPort, _options.LoggerFactory, _options.Time, _options.PrivateCa));
        engine.PublicEndpointsChanged += RefreshEndpoints;
        engine.HomeRegionChanged += RefreshEndpoints;
        return engine;
    }

    private async Task RestoreCachedMapAsync()
    {
        if (_prefs is not { WantUp: true, ServerUrl: { } server } || _state.LoadCachedMap(server) is not { } cached)
        {
            return;
        }

        LogRestored(_logger, cached.Map.Peers.Count, server);
        _replicas = new LearnedReplicas(server, cached.Map.Replicas);
        _restored = cached.Resumable() is { } resumable ? new RestoredMap(server, resumable) : null;
        await ApplyAsync(cached.Map, _prefs, from: null).ConfigureAwait(false);
    }

    /// <summary>
    /// Hands <paramref name="map"/> to the engine (creating one if a logout disposed it). A map from a
    /// session that is no longer current is dropped. An engine failure is logged and shown in the status.
    /// </summary>
    private async Task ApplyAsync(NetMap map, NodePrefs prefs, ControlSession? from)
    {
        await _applyLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (from is not null && _session != from)
            {
                return;
            }

            var engine = _engine ??= CreateEngine();
            await engine.ApplyAsync(map, Settings(prefs), CancellationToken.None).ConfigureAwait(false);
            _applied = map;
            _engineError = null;

            // After the engine: the resolver's addresses are on the TUN now.
            _dns?.Apply(map, prefs.AcceptDns);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _engineError = $"the data plane could not apply the map: {e.Message}";
            LogApplyFailed(_logger, e);
        }
        finally
        {
            _applyLock.Release();
        }
    }

    /// <summary>Tears the tunnels down (`down`, logout, a session the server ended).</summary>
    private async Task TearDownAsync()
    {
        await _applyLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_applied is { } map && _engine is { } engine)
            {
                _applied = null;
                _dns?.Down();
                // Down means the host's own routes again: no exit node's rules stay behind (the choice stays saved for the next up).
                await engine.ApplyAsync(DownMap.From(map), Settings(_prefs) with { ExitNode = null }, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _engineError = $"the data plane could not tear the tunnels down: {e.Message}";
            LogApplyFailed(_logger, e);
        }
        finally
        {
            _applyLock.Release();
        }
    }

    private static EngineSettings Settings(NodePrefs prefs) =>
        new()
        {
            AcceptRoutes = prefs.AcceptRoutes,
            AdvertisedRoutes = prefs.AdvertisedToServer(),
            Masquerade = prefs.Masquerade,
            PortGuessing = prefs.PortGuessing,
            PeerRelay = prefs.PeerRelay,
            ExitNode = prefs.ExitNode,
            ExitNodeAllowLanAccess = prefs.ExitNodeAllowLanAccess,
        };

    private ControlSession StartSession(NodePrefs prefs, string? authKey)
    {
        var servers = ControlServers.Parse(prefs.ServerUrl!).Servers!;
        var options = new ControlClientOptions
        {
            Server = servers[0],
            OtherServers = [.. servers.Skip(1)],
            LearnedServers = _replicas is { } learned && learned.ServerUrl == prefs.ServerUrl ? learned.Urls : [],
            Held = Interlocked.Exchange(ref _restored, null) is { } restored && restored.ServerUrl == prefs.ServerUrl ? restored.Map : null,
            ServerKey = PinnedKey(prefs),
            PrivateCa = _options.PrivateCa,
            RenewNodeKeyAsync = RenewNodeKeyAsync,
            MachineKey = _state.MachineKey,
            NodeKey = _state.NodeKey,
            DiscoKey = _state.DiscoKey,
            Hostname = prefs.Hostname ?? System.Net.Dns.GetHostName(),
            AuthKey = authKey,
            AdvertisedRoutes = prefs.AdvertisedToServer(),
            Endpoints = GatherEndpoints,
            HomeRelay = () => _engine?.HomeRegion ?? 0,
            OffersPeerRelay = () => _session?.Prefs.PeerRelay == true && _engine?.PubliclyReachable == true,
            MappingVaries = () => _engine?.MappingVaries == true,
        };
        var client = new ControlClient(_options.ConfigureControl?.Invoke(options) ?? options, _options.Time, _options.LoggerFactory.CreateLogger<ControlClient>());
        var session = new ControlSession(client, prefs);
        client.StatusChanged += status => OnControlStatus(session, status);
        _session = session;
        session.Pump = Task.Run(() => PumpAsync(session));
        client.Start();
        return session;
    }

    private async Task PumpAsync(ControlSession session)
    {
        var first = true;
        await foreach (var map in session.Client.Maps.ReadAllAsync().ConfigureAwait(false))
        {
            if (_session != session)
            {
                return;
            }

            _mapCache.Save(map, session.ServerUrl, session.Client.ServerKey, session.Client.ServerProtocol);
            if (_replicas?.Urls != map.Replicas)
            {
                _replicas = new LearnedReplicas(session.ServerUrl, map.Replicas);
            }

            await ApplyAsync(map, session.Prefs, session).ConfigureAwait(false);
            session.Outcome.TrySetResult(session.Client.Status);
            if (first)
            {
                // The map request went out before the overlay prefixes were known: drop any overlay address it named.
                first = false;
                RefreshEndpoints();
            }
        }
    }

    private void OnControlStatus(ControlSession session, ControlStatus status)
    {
        switch (status.State)
        {
            case ControlState.Pending:
                session.Outcome.TrySetResult(status);
                PinOnFirstUse(session);
                break;
            case ControlState.Reconnecting:
                // With several replicas, one that fails is no answer yet: `up` hears once each was tried.
                if (status.Failures >= session.Client.ServerCount)
                {
                    session.Outcome.TrySetResult(status);
                }

                PinOnFirstUse(session);
                break;
            case ControlState.Running:
                PinOnFirstUse(session);
                break;
            case ControlState.Rejected or ControlState.Ended:
                session.Outcome.TrySetResult(status);
                _ = Task.Run(() => AfterFinalAsync(session, status));
                break;
        }
    }

    /// <summary>
    /// A session started without a pinned key (preferences from before pinning existed) keeps the key
    /// of its first handshake; `up` pins its own, so only a session it did not start needs this.
    /// </summary>
    private void PinOnFirstUse(ControlSession session)
    {
        if (session.Prefs.ServerKey is null && session.Client.ServerKey is { } key)
        {
            _ = Task.Run(async () =>
            {
                await _gate.WaitAsync().ConfigureAwait(false);
                try
                {
                    if (_session == session && _prefs.ServerKey is null && _prefs.ServerUrl == session.ServerUrl)
                    {
                        session.Prefs = session.Prefs with { ServerKey = key.ToBase64() };
                        SavePrefs(_prefs with { ServerKey = key.ToBase64() });
                        LogPinned(_logger, key.ToBase64(), session.ServerUrl);
                    }
                }
                finally
                {
                    _gate.Release();
                }
            });
        }
    }

    /// <summary>The server refused or ended this session: the tunnels go down and the node needs `up` again.</summary>
    private async Task AfterFinalAsync(ControlSession session, ControlStatus status)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_session != session)
            {
                return; // `up` already handled it, or replaced the session
            }

            await StopSessionAsync().ConfigureAwait(false);
            _lastError = status.Error;
            _needsLogin = true;
            SavePrefs(_prefs with { WantUp = false });
            await TearDownAsync().ConfigureAwait(false);
            _state.ClearMap();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the current session, if any; its maps no longer reach the engine. Call with the gate held.</summary>
    private async Task StopSessionAsync()
    {
        if (_session is not { } session)
        {
            return;
        }

        _session = null;
        await session.Client.DisposeAsync().ConfigureAwait(false);
        await session.Pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _mapCache.Flush(); // before a logout deletes the cache, or the daemon exits
    }

    private void SavePrefs(NodePrefs prefs)
    {
        _prefs = prefs;
        _state.SavePrefs(prefs);
    }

    /// <summary>Public endpoints (STUN through the node's own socket) first, then its interface addresses.</summary>
    private IReadOnlyList<string> GatherEndpoints() =>
        [.. (_engine?.PublicEndpoints ?? []).Concat(LocalEndpoints.Gather(_engine?.ListenPort ?? 0, _options.TunName, _applied?.OverlayPrefixes)).Distinct()];

    private void WatchEndpoints()
    {
        _endpointTimer = _options.Time.CreateTimer(_ => RefreshEndpoints(), null, _options.EndpointRefreshInterval, _options.EndpointRefreshInterval);
        NetworkChange.NetworkAddressChanged += OnAddressChanged;
    }

    private void OnAddressChanged(object? sender, EventArgs e) => RefreshEndpoints();

    private void RefreshEndpoints()
    {
        if (_session is { } session && session.Client.Status.State == ControlState.Running)
        {
            _ = session.Client.RefreshEndpointsAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        NetworkChange.NetworkAddressChanged -= OnAddressChanged;
        _endpointTimer?.Dispose();
        _plainPeerTimer?.Dispose();
        if (_api is not null)
        {
            await _api.DisposeAsync().ConfigureAwait(false);
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await StopSessionAsync().ConfigureAwait(false);
            await StopMetricsAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        await _applyLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _dns?.Dispose();
            _dns = null;
            if (_engine is { } engine)
            {
                _engine = null;
                await engine.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _applyLock.Release();
        }

        _state.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pinned the server key {Key} of {Server} (trust on first use)")]
    private static partial void LogPinned(ILogger logger, string key, string server);

    [LoggerMessage(Level = LogLevel.Information, Message = "restored the cached map ({Peers} peers) of {Server}; tunnels are up while the server is reached")]
    private static partial void LogRestored(ILogger logger, int peers, string server);

    [LoggerMessage(Level = LogLevel.Error, Message = "the data plane failed to apply a map")]
    private static partial void LogApplyFailed(ILogger logger, Exception exception);

    private sealed record LearnedReplicas(string ServerUrl, IReadOnlyList<Uri> Urls);

    private sealed record RestoredMap(string ServerUrl, ResumableMap Map);
}
