using System.Net;
using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Node.Control;
using Trellis.Node.LocalApi;
using Trellis.Node.State;

namespace Trellis.Node.Daemon;

// The local API's commands: up, down, logout.
public sealed partial class NodeDaemon
{
    private static readonly TimeSpan LogoutTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Connects to the server (registering with the auth key, if given) and answers once the first map
    /// is applied, or the node is pending an admin's approval. On failure, what ran before runs again
    /// and the preferences stay as they were.
    /// </summary>
    public async Task<UpResponse> UpAsync(UpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var server = ValidateServer(request.Server ?? _prefs.ServerUrl);
        request = request with { Settings = request.Settings with { MetricsListen = ValidateMetricsListen(request.Settings.MetricsListen) } };
        var routes = request.Settings.AdvertiseRoutes is { } given ? ValidateRoutes(given) : null;
        ValidateExitNode(request.Settings);
        var givenKey = ValidateServerKey(request.ServerKey);
        if (request.Hostname is { } name && string.IsNullOrWhiteSpace(name))
        {
            throw new LocalApiException(LocalApiErrors.Invalid, "the hostname must not be empty");
        }

        // The outcome is awaited to the end even if the caller goes away: a half-done `up` would leave
        // a session running that the saved preferences do not know of.
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var previous = _prefs;
            var sameServer = previous.ServerUrl == server;
            var basis = request.Reset ? new NodePrefs() : previous;
            var prefs = WithSettings(basis, request.Settings, routes) with
            {
                ServerUrl = server,

                // Another server is trusted on first use again, unless its key is given.
                ServerKey = givenKey ?? (sameServer ? previous.ServerKey : null),
                Hostname = request.Hostname?.Trim() ?? (sameServer && !request.Reset ? previous.Hostname : null),
                WantUp = true,
            };
            await ServeMetricsAsync(prefs.MetricsListen).ConfigureAwait(false);
            var authKey = string.IsNullOrWhiteSpace(request.AuthKey) ? null : request.AuthKey.Trim();

            // Re-running a provisioning command on a connected node succeeds without the (often
            // single-use, maybe expired) key; --force-reauth registers with it again.
            if (_session is { } current && current.Client.Status.State == ControlState.Running && (authKey is null || !request.ForceReauth)
                && current.ServerUrl == prefs.ServerUrl && current.Prefs.Hostname == prefs.Hostname
                && (givenKey is null || current.Client.ServerKey?.ToBase64() == givenKey))
            {
                if (authKey is not null)
                {
                    LogAuthKeyIgnored(_logger);
                }

                await UpdateInPlaceAsync(current, prefs).ConfigureAwait(false);
                if (request.ForceReauth && authKey is null)
                {
                    return await RenewAsync(current, cancellationToken).ConfigureAwait(false);
                }

                return Answer(NodeStates.Running, approveHint: null) with { AuthKeyIgnored = authKey is not null };
            }

            await StopSessionAsync().ConfigureAwait(false);
            var session = StartSession(prefs, authKey);
            ControlStatus outcome;
            try
            {
                outcome = await session.Outcome.Task.WaitAsync(_options.UpTimeout, _options.Time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                outcome = new ControlStatus
                {
                    Error = $"the server gave no answer within {_options.UpTimeout.TotalSeconds:0} s (still {session.Client.Status.State})",
                };
            }

            if (outcome.State is ControlState.Running or ControlState.Pending)
            {
                session.Prefs = prefs = prefs with { ServerKey = session.Client.ServerKey?.ToBase64() ?? prefs.ServerKey };
                SavePrefs(prefs);
                _lastError = null;
                _needsLogin = false;
                LogUp(_logger, server, outcome.State);
                return Answer(outcome.State == ControlState.Running ? NodeStates.Running : NodeStates.Pending, outcome.ApproveHint);
            }

            await StopSessionAsync().ConfigureAwait(false);
            if (previous is { WantUp: true, ServerUrl: not null })
            {
                StartSession(previous, authKey: null);
            }

            await ServeMetricsQuietlyAsync(previous.MetricsListen).ConfigureAwait(false);

            throw new LocalApiException(ErrorCode(outcome), outcome.Error ?? "the node could not connect");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// `trellis set`: changes settings and keeps the node as it is, up or down. A connected node applies
    /// them at once (routes are advertised again, the engine reconfigured); a down one uses them at its next `up`.
    /// </summary>
    public async Task<PrefsResponse> SetAsync(SetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request = request with { Settings = request.Settings with { MetricsListen = ValidateMetricsListen(request.Settings.MetricsListen) } };
        var routes = request.Settings.AdvertiseRoutes is { } given ? ValidateRoutes(given) : null;
        ValidateExitNode(request.Settings);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var prefs = WithSettings(_prefs, request.Settings, routes);
            await ServeMetricsAsync(prefs.MetricsListen).ConfigureAwait(false);
            if (_session is { } session)
            {
                await UpdateInPlaceAsync(session, prefs).ConfigureAwait(false);
            }
            else
            {
                SavePrefs(prefs);
            }

            LogSet(_logger);
            return Prefs();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The saved preferences, without anything secret.</summary>
    public PrefsResponse Prefs()
    {
        var prefs = _prefs;
        return new PrefsResponse
        {
            Server = prefs.ServerUrl,
            Hostname = prefs.Hostname,
            AdvertiseRoutes = prefs.AdvertiseRoutes,
            AcceptRoutes = prefs.AcceptRoutes,
            AcceptDns = prefs.AcceptDns,
            Masquerade = prefs.Masquerade,
            PortGuessing = prefs.PortGuessing,
            PeerRelay = prefs.PeerRelay,
            AdvertiseExitNode = prefs.AdvertiseExitNode,
            ExitNode = prefs.ExitNode,
            ExitNodeAllowLanAccess = prefs.ExitNodeAllowLanAccess,
            MetricsListen = prefs.MetricsListen,
            WantUp = prefs.WantUp,
        };
    }

    private static NodePrefs WithSettings(NodePrefs basis, NodeSettings settings, List<string>? routes) => basis with
    {
        AdvertiseRoutes = routes ?? basis.AdvertiseRoutes,
        AcceptRoutes = settings.AcceptRoutes ?? basis.AcceptRoutes,
        AcceptDns = settings.AcceptDns ?? basis.AcceptDns,
        Masquerade = settings.Masquerade ?? basis.Masquerade,
        PortGuessing = settings.PortGuessing ?? basis.PortGuessing,
        PeerRelay = settings.PeerRelay ?? basis.PeerRelay,
        AdvertiseExitNode = settings.AdvertiseExitNode ?? basis.AdvertiseExitNode,
        ExitNode = settings.ExitNode is { } exit ? (string.IsNullOrWhiteSpace(exit) ? null : exit.Trim()) : basis.ExitNode,
        ExitNodeAllowLanAccess = settings.ExitNodeAllowLanAccess ?? basis.ExitNodeAllowLanAccess,
        MetricsListen = settings.MetricsListen is { } metrics ? (metrics.Length == 0 ? null : metrics) : basis.MetricsListen,
    };

    /// <summary>
    /// Refuses an exit node the current map does not offer (unknown, or not an approved exit node),
    /// before anything is saved. Without a map yet (the first `up`) the choice is kept and checked on
    /// every map: until it is usable, internet traffic is dropped and `trellis status` says why.
    /// </summary>
    private void ValidateExitNode(NodeSettings settings)
    {
        if (settings.ExitNode is { } given && !string.IsNullOrWhiteSpace(given) && _applied is { } map
            && Engine.ExitNodeChoice.Resolve(map, given, out var error) is null)
        {
            throw new LocalApiException(LocalApiErrors.Invalid, $"--exit-node: {error}; nothing was changed");
        }

        if (settings.ExitNodeAllowLanAccess == true && settings.ExitNode is null && _prefs.ExitNode is null)
        {
            throw new LocalApiException(LocalApiErrors.Invalid, "--exit-node-allow-lan-access needs an exit node: add --exit-node NAME");
        }
    }

    /// <summary>
    /// Already running against this server as this name (or connecting, for `set`): only settings
    /// change. Routes are advertised again and the engine reconfigured when the map is applied.
    /// </summary>
    private async Task UpdateInPlaceAsync(ControlSession session, NodePrefs prefs)
    {
        var old = session.Prefs;
        session.Prefs = prefs;
        SavePrefs(prefs);
        if (!old.AdvertisedToServer().SequenceEqual(prefs.AdvertisedToServer()))
        {
            await session.Client.AdvertiseRoutesAsync(prefs.AdvertisedToServer(), CancellationToken.None).ConfigureAwait(false);
        }

        if ((old.AcceptRoutes != prefs.AcceptRoutes || old.Masquerade != prefs.Masquerade || old.PortGuessing != prefs.PortGuessing || old.PeerRelay != prefs.PeerRelay || old.AcceptDns != prefs.AcceptDns
                || !old.AdvertisedToServer().SequenceEqual(prefs.AdvertisedToServer()) || old.ExitNode != prefs.ExitNode || old.ExitNodeAllowLanAccess != prefs.ExitNodeAllowLanAccess) && _applied is { } map)
        {
            await ApplyAsync(map, prefs, session).ConfigureAwait(false);
        }
    }

    /// <summary>Disconnects from the server and tears the tunnels down; keys and node registration stay.</summary>
    public async Task<StatusResponse> DownAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StopSessionAsync().ConfigureAwait(false);
            SavePrefs(_prefs with { WantUp = false });
            _lastError = null;
            _needsLogin = false;
            await TearDownAsync().ConfigureAwait(false);
            LogDown(_logger);
            return Status();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Logs out on the server (the node leaves every map), then forgets the node key and the cached
    /// map. When the server cannot be reached nothing changes, so the logout can be retried.
    /// </summary>
    public async Task<StatusResponse> LogoutAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var prefs = _prefs;
            await StopSessionAsync().ConfigureAwait(false);
            if (prefs.ServerUrl is { } server)
            {
                try
                {
                    await ControlClient.LogoutAsync(FirstServer(server), _state.MachineKey, PinnedKey(prefs), _options.PrivateCa, LogoutTimeout, CancellationToken.None).ConfigureAwait(false);
                }
                catch (ControlException e)
                {
                    if (prefs is { WantUp: true })
                    {
                        StartSession(prefs, authKey: null);
                    }

                    throw new LocalApiException(ErrorCode(e.Kind), $"could not log out: {e.Message}; nothing was changed");
                }
            }

            await TearDownAsync().ConfigureAwait(false);
            _state.ClearMap();
            await ForgetNodeKeyAsync().ConfigureAwait(false);
            SavePrefs(prefs with { WantUp = false });
            _lastError = null;
            _needsLogin = true;
            LogLoggedOut(_logger);
            return Status();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A new node key; the engine holding the old one goes, and the next map creates one with the new key.</summary>
    private async Task ForgetNodeKeyAsync()
    {
        await _applyLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_engine is { } engine)
            {
                _engine = null;
                await engine.DisposeAsync().ConfigureAwait(false);
            }

            _state.RotateNodeKey();
        }
        finally
        {
            _applyLock.Release();
        }
    }

    /// <summary>
    /// `trellis up --force-reauth` without an auth key on a running node: asks the server how its key
    /// is renewed ahead of its expiry (a sign-in link for its owner, or what else to do) and answers
    /// with that. The session, the key and the tunnels stay as they are.
    /// </summary>
    private async Task<UpResponse> RenewAsync(ControlSession session, CancellationToken cancellationToken)
    {
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnStatus(ControlStatus status)
        {
            if (status.RenewHint is not null || status.State != ControlState.Running)
            {
                answered.TrySetResult();
            }
        }

        session.Client.StatusChanged += OnStatus;
        try
        {
            if (!await session.Client.RequestRenewalAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new LocalApiException(LocalApiErrors.Failed, "the control connection is not streaming right now; try again once `trellis status` says running");
            }

            OnStatus(session.Client.Status);
            await answered.Task.WaitAsync(_options.UpTimeout, _options.Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new LocalApiException(LocalApiErrors.Failed, $"the server did not answer the renewal request within {_options.UpTimeout.TotalSeconds:0} s");
        }
        finally
        {
            session.Client.StatusChanged -= OnStatus;
        }

        var control = session.Client.Status;
        return control.RenewHint is null
            ? throw new LocalApiException(LocalApiErrors.Failed, control.Error ?? "the control connection went away before the server answered the renewal request; try again")
            : Answer(NodeStates.Running, approveHint: null);
    }

    /// <summary>The server expired the node key: a new one (saved), and the engine goes until a map admits the new key.</summary>
    private async Task<Key> RenewNodeKeyAsync(CancellationToken cancellationToken)
    {
        await ForgetNodeKeyAsync().ConfigureAwait(false);
        return _state.NodeKey;
    }

    private UpResponse Answer(string state, string? approveHint) =>
        new() { State = state, ApproveHint = approveHint, Status = Status() };

    /// <summary>The server's URL, or its replicas' URLs, in the form the preferences keep.</summary>
    private static string ValidateServer(string? server)
    {
        if (string.IsNullOrWhiteSpace(server))
        {
            throw new LocalApiException(LocalApiErrors.Invalid, "no control server: give its URL (trellis up --server https://...)");
        }

        var (servers, problem) = ControlServers.Parse(server);
        return servers is null ? throw new LocalApiException(LocalApiErrors.Invalid, $"the server {problem}") : ControlServers.Join(servers);
    }

    /// <summary>The first of the saved servers (a saved list was validated when `up` saved it).</summary>
    private static Uri FirstServer(string saved) => ControlServers.Parse(saved).Servers![0];

    private static string? ValidateServerKey(string? key)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            return null;
        }

        return Key.TryParseBase64(key.Trim(), out var parsed)
            ? parsed.ToBase64()
            : throw new LocalApiException(LocalApiErrors.Invalid, $"--server-key must be the server's public key in base64 (44 characters, as `trellis server` prints it), got '{key}'");
    }

    /// <summary>The saved preferences' pinned key; a key that no longer parses pins nothing rather than failing every start.</summary>
    private static Key? PinnedKey(NodePrefs prefs) =>
        prefs.ServerKey is { } text && Key.TryParseBase64(text, out var key) ? key : null;

    private static List<string> ValidateRoutes(IReadOnlyList<string>? routes)
    {
        var normalized = new List<string>();
        foreach (var route in routes ?? [])
        {
            var text = route.Trim();
            var slash = text.IndexOf('/', StringComparison.Ordinal);

            // IPNetwork.TryParse quietly clears host bits; a route with them set is a typo worth naming.
            if (slash <= 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var address) || !IPNetwork.TryParse(text, out var prefix))
            {
                throw new LocalApiException(LocalApiErrors.Invalid, $"'{route}' is not a route prefix such as 192.168.1.0/24 or fd00:1::/64");
            }

            if (!prefix.BaseAddress.Equals(address))
            {
                throw new LocalApiException(LocalApiErrors.Invalid, $"the route '{route}' has host bits set; did you mean {prefix}?");
            }

            if (!normalized.Contains(prefix.ToString()))
            {
                normalized.Add(prefix.ToString());
            }
        }

        return normalized;
    }

    private static string ErrorCode(ControlStatus outcome) =>
        outcome.State == ControlState.Idle && outcome.ErrorKind == ControlErrorKind.None ? LocalApiErrors.Timeout : ErrorCode(outcome.ErrorKind);

    private static string ErrorCode(ControlErrorKind kind) => kind switch
    {
        ControlErrorKind.Unreachable => LocalApiErrors.Unreachable,
        ControlErrorKind.NotTrellisServer => LocalApiErrors.NotTrellisServer,
        ControlErrorKind.Rejected => LocalApiErrors.Rejected,
        ControlErrorKind.ServerKeyChanged => LocalApiErrors.ServerKeyChanged,
        _ => LocalApiErrors.Failed,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "up: {Server} ({State})")]
    private static partial void LogUp(ILogger logger, string server, ControlState state);

    [LoggerMessage(Level = LogLevel.Information, Message = "up: already connected; the auth key given was not used (--force-reauth registers with it again)")]
    private static partial void LogAuthKeyIgnored(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "set: settings changed")]
    private static partial void LogSet(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "down: disconnected from the control server; tunnels torn down")]
    private static partial void LogDown(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "logged out; the node key was replaced")]
    private static partial void LogLoggedOut(ILogger logger);
}
