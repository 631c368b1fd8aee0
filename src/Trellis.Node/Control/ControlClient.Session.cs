using System.Net.WebSockets;
using Trellis.Core;
using Trellis.Core.Build;
using Trellis.Core.Control;
using Trellis.Crypto;
using Trellis.Crypto.Noise;

namespace Trellis.Node.Control;

// The connection loop: connect, register, stream the map until it breaks, wait, again.
public sealed partial class ControlClient
{
    private enum SessionEnd
    {
        Reconnect,
        Final,
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        var attempt = 0;
        try
        {
            while (!token.IsCancellationRequested)
            {
                ControlException failure;
                try
                {
                    var streamed = Status.MapStreams;
                    if (await RunSessionAsync(token).ConfigureAwait(false) == SessionEnd.Final)
                    {
                        return;
                    }

                    attempt = Status.MapStreams > streamed ? 0 : attempt;
                    failure = new ControlException(ControlErrorKind.Unreachable, "the server closed the control connection");
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    break;
                }
                catch (ControlException e)
                {
                    failure = e;
                }
                catch (Exception e) when (e is WebSocketException or IOException or InvalidDataException or OperationCanceledException)
                {
                    // A broken stream (or a read that the socket's keepalive timed out).
                    failure = new ControlException(ControlErrorKind.Unreachable, $"the control connection broke: {e.Message}", e);
                }

                // The next replica in turn: the one that failed may be gone for good.
                CurrentServer = NextServer(Servers, CurrentServer);
                var delay = _backoff.Delay(attempt++);
                LogRetry(_logger, failure.Message, Durations.Describe(delay));
                SetStatus(s => s with
                {
                    State = ControlState.Reconnecting,
                    Error = failure.Message,
                    ErrorKind = failure.Kind,
                    Failures = s.Failures + 1,
                });
                try
                {
                    await Task.Delay(delay, _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            SetStatus(s => s with { State = ControlState.Stopped });
        }
        finally
        {
            _maps.Writer.TryComplete();
        }
    }

    /// <summary>The URL after <paramref name="current"/> in <paramref name="servers"/>, round; the first when the list no longer holds it.</summary>
    internal static Uri NextServer(IReadOnlyList<Uri> servers, Uri current)
    {
        for (var i = 0; i < servers.Count; i++)
        {
            if (servers[i] == current)
            {
                return servers[(i + 1) % servers.Count];
            }
        }

        return servers[0];
    }

    private async Task<SessionEnd> RunSessionAsync(CancellationToken token)
    {
        var server = CurrentServer;
        SetStatus(s => s with { State = ControlState.Connecting, Server = server });
        var (channel, serverKey) = await ControlDialer.ConnectAsync(CurrentServer, _options.MachineKey, ServerKey, _options.PrivateCa, _options.ConnectTimeout, token).ConfigureAwait(false);
        using var owned = channel;

        // Trust on first use: from the first completed handshake on, this client accepts only this key.
        ServerKey = serverKey;
        SetStatus(s => s with { State = ControlState.Registering });
        if (!await RegisterAsync(channel, token).ConfigureAwait(false))
        {
            return SessionEnd.Final;
        }

        await OpenMapStreamAsync(channel, serverKey, token).ConfigureAwait(false);
        try
        {
            return await StreamAsync(channel, token).ConfigureAwait(false);
        }
        finally
        {
            _streaming = null;
        }
    }

    /// <summary>Registers, asking again while pending; false when the registration was refused (final).</summary>
    private async Task<bool> RegisterAsync(NoiseControlChannel channel, CancellationToken token)
    {
        var renewed = false;
        while (true)
        {
            await channel.SendAsync(Registration(), token).ConfigureAwait(false);
            var reply = await ReceiveRegisterResponseAsync(channel, token).ConfigureAwait(false);
            switch (reply.Status)
            {
                case RegisterStatus.Active:
                    _authKey = null; // spent: the machine key proves who we are from now on
                    SetStatus(s => s with { Self = reply.Self, ApproveHint = null, AuthUrl = null });
                    return true;
                case RegisterStatus.Pending:
                    _authKey = null;
                    var hint = reply.ApproveHint ?? $"an admin approves this node with: trellis nodes approve {reply.Self?.Name ?? _options.Hostname}";
                    if (renewed)
                    {
                        hint = $"this node's key expired and was replaced; {hint}, or re-authenticate here with: trellis up --authkey KEY";
                    }

                    if (Status.State != ControlState.Pending)
                    {
                        LogPending(_logger, hint);
                    }

                    SetStatus(s => s with { State = ControlState.Pending, ApproveHint = hint, AuthUrl = reply.AuthUrl, Self = reply.Self, Error = null, ErrorKind = ControlErrorKind.None });
                    await Task.Delay(_options.PendingRecheckInterval, _time, token).ConfigureAwait(false);
                    break;
                case RegisterStatus.Rejected when reply.Code == ControlErrorCodes.NodeKeyExpired && !renewed && _options.RenewNodeKeyAsync is { } renew:
                    // The old key stays dead on the server; the machine key keeps the node's identity.
                    LogKeyExpired(_logger);
                    _nodeKey = await renew(token).ConfigureAwait(false);
                    renewed = true;
                    break;
                case RegisterStatus.Rejected:
                    var error = $"the server refused the registration: {reply.Error ?? "no reason given"}";
                    LogFinal(_logger, error);
                    SetStatus(s => s with { State = ControlState.Rejected, Error = error, ErrorKind = ControlErrorKind.Rejected, ApproveHint = null, AuthUrl = null });
                    return false;
                default:
                    throw new ControlException(ControlErrorKind.Protocol, $"the server answered the registration with an unknown status '{reply.Status}'");
            }
        }
    }

    /// <summary>This node's registration as it stands: its keys, name, routes and any auth key not yet spent.</summary>
    private RegisterRequest Registration() => new()
    {
        NodeKey = X25519.PublicKey(_nodeKey).ToBase64(),
        DiscoKey = X25519.PublicKey(_options.DiscoKey).ToBase64(),
        Hostname = _options.Hostname,
        AuthKey = _authKey,
        AdvertisedRoutes = _routes,
    };

    private static async Task<RegisterResponse> ReceiveRegisterResponseAsync(NoiseControlChannel channel, CancellationToken token)
    {
        while (true)
        {
            switch (await channel.ReceiveAsync(token).ConfigureAwait(false))
            {
                case null:
                    throw new ControlException(ControlErrorKind.Unreachable, "the server closed the control connection during registration");
                case RegisterResponse response:
                    return response;
                case ErrorMessage { Code: ControlErrorCodes.Unavailable } unavailable:
                    throw new ControlException(ControlErrorKind.Unreachable, $"the server could not register this node: {unavailable.Message}");
                case ErrorMessage error:
                    throw new ControlException(ControlErrorKind.Protocol, $"the server refused the registration request: {error.Code}: {error.Message}");
                default:
                    continue; // keepalives and the like
            }
        }
    }

    private async Task<SessionEnd> StreamAsync(NoiseControlChannel channel, CancellationToken token)
    {
        var first = true;
        while (await channel.ReceiveAsync(token).ConfigureAwait(false) is { } message)
        {
            var opening = first && message is FullMap or MapDelta;
            first &= !opening;
            switch (message)
            {
                case MapDelta resumed when opening:
                    // The server answered our map's digests (MapResume) with what changed since: the session resumed.
                    var held = _described ?? throw new ControlException(ControlErrorKind.Protocol, "the server resumed a map this node did not describe");

                    // From the cached map of an earlier run, the level is the one its server announced.
                    ServerProtocol = held.ServerProtocol;
                    var resumedMap = Current = NetMapBuilder.Apply(held.Map, resumed);
                    _learned = resumedMap.Replicas;
                    LogResumed(_logger, CurrentServer.AbsoluteUri, resumed.PeersChanged.Count, resumed.PeersRemoved.Count);
                    SetStatus(s => WithSelf(s, resumed.Self ?? s.Self) with
                    {
                        State = ControlState.Running,
                        Error = null,
                        ErrorKind = ControlErrorKind.None,
                        MapStreams = s.MapStreams + 1,
                        MapResumes = s.MapResumes + 1,
                        Failures = 0,
                        ServerVersion = Printable(resumed.ServerVersion),
                    });
                    Publish(resumedMap);
                    break;
                case FullMap full:
                    ServerProtocol = full.ServerProtocol;

                    // The status says Running before the map is readable, so whoever takes the map sees Running.
                    var map = Current = NetMapBuilder.FromFull(full);
                    _learned = map.Replicas;
                    LogState(_logger, ControlState.Running, CurrentServer.AbsoluteUri);
                    SetStatus(s => WithSelf(s, full.Self) with
                    {
                        State = ControlState.Running,
                        Error = null,
                        ErrorKind = ControlErrorKind.None,
                        MapStreams = s.MapStreams + 1,
                        Failures = 0,
                        ServerVersion = Printable(full.ServerVersion),
                    });
                    Publish(map);
                    break;
                case MapDelta delta:
                    var current = Current ?? throw new ControlException(ControlErrorKind.Protocol, "the server sent a delta before the full map");
                    var next = NetMapBuilder.Apply(current, delta);
                    _learned = next.Replicas;
                    Publish(next);
                    if (delta.Self is { } self)
                    {
                        SetStatus(s => WithSelf(s, self));
                    }

                    break;
                case RegisterResponse renewal:
                    // The answer to a renewal request sent on this stream (RequestRenewalAsync).
                    SetStatus(s => renewal.Status == RegisterStatus.Active
                        ? WithSelf(s, renewal.Self ?? s.Self) with { RenewUrl = renewal.AuthUrl, RenewHint = renewal.ApproveHint ?? "the server gave no way to renew this node's key" }
                        : s with { RenewUrl = null, RenewHint = $"the server refused to renew this node's key: {renewal.Error ?? "no reason given"}" });
                    break;
                case KeepaliveMessage:
                    break;
                case ErrorMessage { Code: ControlErrorCodes.StreamEnded } ended:
                    var reason = $"the server ended this node's session ({ended.Message}); run `trellis up` to log in again";
                    LogFinal(_logger, reason);
                    SetStatus(s => s with { State = ControlState.Ended, Error = reason, ErrorKind = ControlErrorKind.SessionEnded });
                    return SessionEnd.Final;
                case ErrorMessage { Code: ControlErrorCodes.NotRegistered or ControlErrorCodes.Pending or ControlErrorCodes.NodeKeyExpired } refused:
                    // The registration went stale (or the key expired) since our register request: register again.
                    throw new ControlException(ControlErrorKind.Protocol, $"the server refused the map stream: {refused.Message}");
                case ErrorMessage other:
                    LogServerError(_logger, other.Code, other.Message);
                    break;
                default:
                    break; // a stray reply; nothing to do
            }
        }

        return SessionEnd.Reconnect;
    }

    /// <summary>The server's version if it is one a terminal may show (the server is trusted, but a status line never prints control characters).</summary>
    private static string? Printable(string? version) => version is not null && NodeVersion.IsValid(version) ? version : null;

    /// <summary>A new description of this node; a changed key expiry means a renewal took, so its link is spent.</summary>
    private static ControlStatus WithSelf(ControlStatus status, PeerInfo? self) =>
        self?.KeyExpiry == status.Self?.KeyExpiry || status.Self is null
            ? status with { Self = self }
            : status with { Self = self, RenewUrl = null, RenewHint = null };

    private void Publish(NetMap map)
    {
        Current = map;
        _held = null; // this client's own map supersedes it
        _maps.Writer.TryWrite(map);
    }
}
