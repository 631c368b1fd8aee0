using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Trellis.Control.Mesh;
using Trellis.Control.Store;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto.Noise;

namespace Trellis.Control.NodeProtocol;

/// <summary>
/// One node's control connection: the Noise handshake (which authenticates the machine key, and
/// must finish in time), then requests from the node and, once it asks for its map, the map stream
/// pumped from its <see cref="MeshSession"/>. Bad input ends this connection with a reason, never the
/// server: a message over the size cap, or silence past the idle timeout, closes it.
/// </summary>
public sealed partial class NodeConnection(
    ControlService service, Key serverKey, NodeConnectionLimits limits, TimeProvider networkTime, ConnectionCounters counters, ILogger logger)
{
    /// <param name="activity">What the connection's stream has received (WebSocket pings too), for the idle timeout.</param>
    public async Task RunAsync(WebSocket socket, ReceiveActivity activity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(activity);
        NoiseControlChannel channel;
        try
        {
            var accept = new ControlChannelAcceptOptions { MaxMessage = limits.MaxMessage, HandshakeTimeout = limits.HandshakeTimeout, Time = networkTime };
            channel = await NoiseControlChannel.AcceptAsync(socket, serverKey, accept, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NoiseHandshakeException or InvalidDataException or WebSocketException or OperationCanceledException or TimeoutException)
        {
            if (e is TimeoutException)
            {
                counters.HandshakeTimedOut();
            }

            LogHandshakeFailed(logger, e.Message);
            await CloseQuietly(socket, WebSocketCloseStatus.PolicyViolation, "bad handshake").ConfigureAwait(false);
            socket.Dispose();
            return;
        }

        using (channel)
        {
            var machineKey = channel.RemoteStatic;
            MeshSession? session = null;
            Task? pump = null;
            using var idle = new IdleWatch(activity, limits.IdleTimeout, networkTime);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Expired);
            try
            {
                while (await channel.ReceiveAsync(stop.Token).ConfigureAwait(false) is { } message)
                {
                    switch (message)
                    {
                        case RegisterRequest register:
                            var registered = await service.RegisterAsync(machineKey, register).ConfigureAwait(false);
                            counters.Registered(registered.Status);
                            await channel.SendAsync(registered, stop.Token).ConfigureAwait(false);
                            break;
                        case MapRequest map when session is null:
                            if (!EndpointLists.TryNormalize(map.Endpoints, out var mapEndpoints, out var mapError))
                            {
                                await channel.SendAsync(InvalidEndpoints(mapError), stop.Token).ConfigureAwait(false);
                                break;
                            }

                            var opened = await service.OpenMapAsync(machineKey, map with { Endpoints = mapEndpoints }).ConfigureAwait(false);
                            if (opened.Session is null)
                            {
                                await channel.SendAsync(opened.Error!, stop.Token).ConfigureAwait(false);
                                break;
                            }

                            session = opened.Session;
                            pump = PumpAsync(channel, session, stop.Token);
                            break;
                        case MapRequest:
                            await channel.SendAsync(new ErrorMessage { Code = ControlErrorCodes.AlreadyStreaming, Message = "this connection already streams the map" }, stop.Token).ConfigureAwait(false);
                            break;
                        case EndpointUpdate update:
                            // Normalised here so that peers receive exactly what the store keeps.
                            var endpointError = EndpointLists.TryNormalize(update.Endpoints, out var endpoints, out var error)
                                ? await service.UpdateEndpointsAsync(machineKey, update with { Endpoints = endpoints }).ConfigureAwait(false)
                                : InvalidEndpoints(error);
                            await ReplyIfError(channel, endpointError, stop.Token).ConfigureAwait(false);
                            break;
                        case RouteAdvertisement routes:
                            await ReplyIfError(channel, await service.AdvertiseRoutesAsync(machineKey, routes).ConfigureAwait(false), stop.Token).ConfigureAwait(false);
                            break;
                        case PlainPeerReport report:
                            await ReplyIfError(channel, await service.ReportPlainPeersAsync(machineKey, report).ConfigureAwait(false), stop.Token).ConfigureAwait(false);
                            break;
                        case LogoutRequest:
                            await service.LogoutAsync(machineKey).ConfigureAwait(false);
                            await channel.CloseAsync("logged out", stop.Token).ConfigureAwait(false);
                            return;
                        case KeepaliveMessage:
                            break;
                        default:
                            await channel.SendAsync(new ErrorMessage { Code = ControlErrorCodes.Unexpected, Message = $"a node does not send {message.GetType().Name}" }, stop.Token).ConfigureAwait(false);
                            break;
                    }
                }
            }
            catch (ControlMessageTooLargeException e)
            {
                counters.Oversized();
                LogOversized(logger, machineKey.ToBase64(), e.Length, e.Limit);
                await CloseQuietly(socket, WebSocketCloseStatus.MessageTooBig, "control message too large").ConfigureAwait(false);
            }
            catch (InvalidDataException e)
            {
                LogBadInput(logger, machineKey.ToBase64(), e.Message);
                await CloseQuietly(socket, WebSocketCloseStatus.InvalidPayloadData, "invalid control message").ConfigureAwait(false);
            }
            catch (Exception e) when (DatabaseErrors.IsStoreFailure(e))
            {
                // The node is told why and tries again (another replica first): a dropped connection alone
                // would leave `trellis up` guessing, and the exception would otherwise reach Kestrel's log unexplained.
                LogStoreFailed(logger, machineKey.ToBase64(), e);
                await TellUnavailable(channel).ConfigureAwait(false);
                await CloseQuietly(socket, WebSocketCloseStatus.InternalServerError, "database unavailable").ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                // Only the expired watch, not the request's token: the abort it causes also aborts the request.
                if (idle.Expired.IsCancellationRequested)
                {
                    counters.ClosedIdle();
                    LogIdle(logger, machineKey.ToBase64(), limits.IdleTimeout.TotalSeconds);
                }

                // otherwise the node went away; its stream ends below
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                if (pump is not null)
                {
                    await pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                if (session is not null)
                {
                    await service.DisconnectedAsync(session).ConfigureAwait(false);
                    session.Dispose();
                }
            }
        }
    }

    /// <summary>How long a closing handshake may take before the connection is simply dropped.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    private static ErrorMessage InvalidEndpoints(string error) => new() { Code = ControlErrorCodes.Invalid, Message = error };

    private async Task PumpAsync(NoiseControlChannel channel, MeshSession session, CancellationToken cancellationToken)
    {
        try
        {
            var first = true;
            while (await session.NextAsync(limits.Keepalive, limits.DeltaPace, cancellationToken).ConfigureAwait(false) is { } message)
            {
                // Nothing after the send reads the message, so the pump does not keep it while it waits for
                // the next one: a full map of thousands of peers would stay with every quiet node until then.
                var kind = ConnectionCounters.KindOf(message, first);
                var before = channel.BytesSent;
                await channel.SendAsync(message, cancellationToken).ConfigureAwait(false);
                counters.Sent(kind, channel.BytesSent - before);
                first = false;
            }

            await channel.SendAsync(new ErrorMessage { Code = session.CloseCode, Message = session.CloseReason ?? "ended" }, cancellationToken).ConfigureAwait(false);
            await channel.CloseAsync(session.CloseReason ?? "ended", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // the connection is closing
        }
    }

    private static async Task TellUnavailable(NoiseControlChannel channel)
    {
        try
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            var message = new ErrorMessage { Code = ControlErrorCodes.Unavailable, Message = "the server cannot use its database just now; try again shortly (the server's log says why)" };
            await channel.SendAsync(message, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // the node is gone already
        }
    }

    private static async Task ReplyIfError(NoiseControlChannel channel, ErrorMessage? error, CancellationToken cancellationToken)
    {
        if (error is not null)
        {
            await channel.SendAsync(error, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task CloseQuietly(WebSocket socket, WebSocketCloseStatus status, string reason)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                await socket.CloseOutputAsync(status, reason, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // already gone
        }
    }

    // Debug: anyone can send a bad handshake, so at a higher level a flood would fill the log (the counters count timeouts).
    [LoggerMessage(Level = LogLevel.Debug, Message = "control handshake refused: {Reason}")]
    private static partial void LogHandshakeFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "node {MachineKey}: the database failed its request; told it to try again")]
    private static partial void LogStoreFailed(ILogger logger, string machineKey, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {MachineKey} sent invalid control data: {Reason}")]
    private static partial void LogBadInput(ILogger logger, string machineKey, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {MachineKey} announced a control message of {Length} bytes, over the limit of {Limit}; closed its connection without reading it")]
    private static partial void LogOversized(ILogger logger, string machineKey, long length, int limit);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {MachineKey} sent nothing, not even a WebSocket ping, for {Seconds} s; closed its connection")]
    private static partial void LogIdle(ILogger logger, string machineKey, double seconds);
}
