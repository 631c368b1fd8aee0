using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Trellis.Relay.Protocol;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Server;

/// <summary>The HTTP side: flood bounds, then the Upgrade (or the WebSocket fallback) into a frame stream.</summary>
public sealed partial class RelayServer
{
    /// <summary>The request delegate behind <see cref="RelayEndpointRouteBuilderExtensions.MapRelay"/>.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsConnect(context.Request.Method))
        {
            await RespondAsync(context, StatusCodes.Status405MethodNotAllowed, "the relay takes GET with an Upgrade\n").ConfigureAwait(false);
            return;
        }

        if (IsShuttingDown)
        {
            await RespondAsync(context, StatusCodes.Status503ServiceUnavailable, "the relay is restarting\n").ConfigureAwait(false);
            return;
        }

        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var isWebSocket = context.WebSockets.IsWebSocketRequest;
        var isUpgrade = !isWebSocket && upgrade is { IsUpgradableRequest: true }
                        && string.Equals(context.Request.Headers.Upgrade, RelayProtocol.UpgradeToken, StringComparison.OrdinalIgnoreCase);
        if (!isWebSocket && !isUpgrade)
        {
            context.Response.Headers.Upgrade = RelayProtocol.UpgradeToken;
            await RespondAsync(context, StatusCodes.Status426UpgradeRequired,
                $"this is a Trellis relay: connect with \"Upgrade: {RelayProtocol.UpgradeToken}\" or a WebSocket\n").ConfigureAwait(false);
            return;
        }

        var address = ClientAddress.Resolve(context.Connection.RemoteIpAddress, context.Request.Headers[ClientAddress.ForwardedForHeader], Options.TrustedProxies);

        switch (_gate.TryEnter(address))
        {
            case GateResult.TooManyClients:
                LogFull(_logger, Options.MaxConnections);
                await RespondAsync(context, StatusCodes.Status503ServiceUnavailable, "the relay is full; try another\n").ConfigureAwait(false);
                return;
            case GateResult.TooManyFromAddress:
                var bucket = AddressBucket.For(address!).ToString();
                LogTooManyFromAddress(_logger, bucket, Options.MaxConnectionsPerAddress);
                await RespondAsync(context, StatusCodes.Status429TooManyRequests, $"too many relay connections from {bucket}\n").ConfigureAwait(false);
                return;
        }

        try
        {
            if (isWebSocket)
            {
                await using var stream = new WebSocketByteStream(await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false));
                await RunConnectionAsync(stream, context, address).ConfigureAwait(false);
                await stream.CloseQuietlyAsync().ConfigureAwait(false);
            }
            else
            {
                context.Response.Headers.Upgrade = RelayProtocol.UpgradeToken;
                await using var stream = await upgrade!.UpgradeAsync().ConfigureAwait(false);
                await RunConnectionAsync(stream, context, address).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (FrameSender.IsConnectionError(e))
        {
            // the client left during the upgrade
        }
        finally
        {
            _gate.Exit(address);
        }
    }

    private Task RunConnectionAsync(Stream stream, HttpContext context, IPAddress? address) =>
        new ClientConnection(this, stream, context.Abort, address).RunAsync();

    private static async Task RespondAsync(HttpContext context, int status, string message)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(message);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength = body.Length; // the client reads a refusal's reason by length, not chunks
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "relay full ({Max} connections): refusing a connection")]
    private static partial void LogFull(ILogger logger, int max);

    [LoggerMessage(Level = LogLevel.Warning, Message = "relay refusing a connection from {Address}: it already has {Max}")]
    private static partial void LogTooManyFromAddress(ILogger logger, string address, int max);
}
