using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Trellis.Control.Mesh;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto.Noise;

namespace Trellis.Control.NodeProtocol;

/// <summary>
/// One node's control connection: the Noise handshake (which authenticates the machine key), then
/// requests from the node and, once it asks for its map, the map stream pumped from its
/// <see cref="MeshSession"/>. Bad input ends this connection with a reason, never the server.
/// </summary>
public sealed partial class NodeConnection(ControlService service, Key serverKey, TimeSpan keepalive, ILogger logger)
{
    public async Task RunAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        NoiseControlChannel channel;
        try
        {
            channel = await NoiseControlChannel.AcceptAsync(socket, serverKey, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NoiseHandshakeException or InvalidDataException or WebSocketException or OperationCanceledException)
        {
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
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                while (await channel.ReceiveAsync(stop.Token).ConfigureAwait(false) is { } message)
                {
                    switch (message)
                    {
                        case RegisterRequest register:
                            await channel.SendAsync(await service.RegisterAsync(machineKey, register).ConfigureAwait(false), stop.Token).ConfigureAwait(false);
                            break;
                        case MapRequest map when session is null:
                            var opened = await service.OpenMapAsync(machineKey, map).ConfigureAwait(false);
                            if (opened.Session is null)
                            {
                                await channel.SendAsync(opened.Error!, stop.Token).ConfigureAwait(false);
                                break;
                            }

                            session = opened.Session;
                            pump = PumpAsync(channel, session, stop.Token);
                            break;
                        case MapRequest:
                            await channel.SendAsync(new ErrorMessage { Code = "already-streaming", Message = "this connection already streams the map" }, stop.Token).ConfigureAwait(false);
                            break;
                        case EndpointUpdate update:
                            await ReplyIfError(channel, await service.UpdateEndpointsAsync(machineKey, update).ConfigureAwait(false), stop.Token).ConfigureAwait(false);
                            break;
                        case RouteAdvertisement routes:
                            await ReplyIfError(channel, await service.AdvertiseRoutesAsync(machineKey, routes).ConfigureAwait(false), stop.Token).ConfigureAwait(false);
                            break;
                        case LogoutRequest:
                            await service.LogoutAsync(machineKey).ConfigureAwait(false);
                            await channel.CloseAsync("logged out", stop.Token).ConfigureAwait(false);
                            return;
                        case KeepaliveMessage:
                            break;
                        default:
                            await channel.SendAsync(new ErrorMessage { Code = "unexpected", Message = $"a node does not send {message.GetType().Name}" }, stop.Token).ConfigureAwait(false);
                            break;
                    }
                }
            }
            catch (InvalidDataException e)
            {
                LogBadInput(logger, machineKey.ToBase64(), e.Message);
                await CloseQuietly(socket, WebSocketCloseStatus.InvalidPayloadData, "invalid control message").ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                // the node went away; its stream ends below
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

    private async Task PumpAsync(NoiseControlChannel channel, MeshSession session, CancellationToken cancellationToken)
    {
        try
        {
            while (await session.NextAsync(keepalive, cancellationToken).ConfigureAwait(false) is { } message)
            {
                await channel.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }

            await channel.SendAsync(new ErrorMessage { Code = "stream-ended", Message = session.CloseReason ?? "ended" }, cancellationToken).ConfigureAwait(false);
            await channel.CloseAsync(session.CloseReason ?? "ended", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // the connection is closing
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
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(status, reason, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // already gone
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "control handshake refused: {Reason}")]
    private static partial void LogHandshakeFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {MachineKey} sent invalid control data: {Reason}")]
    private static partial void LogBadInput(ILogger logger, string machineKey, string reason);
}
