using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Trellis.Core.Transport;
using Trellis.Relay.Protocol;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Client;

/// <summary>Opens the byte stream to a relay: TCP (and TLS for https) with an HTTP/1.1 Upgrade, or a WebSocket.</summary>
internal static class RelayDialer
{
    /// <summary>A burst the relay wrote in one send (its batches reach 64 KiB) comes in one or two reads.</summary>
    private const int ReadAhead = 64 * 1024;

    public static async Task<(Stream Stream, FrameReader Reader)> DialAsync(RelayClientOptions options, bool webSocket, CancellationToken cancellationToken) =>
        webSocket ? await DialWebSocketAsync(options, cancellationToken).ConfigureAwait(false) : await DialUpgradeAsync(options, cancellationToken).ConfigureAwait(false);

    private static async Task<(Stream, FrameReader)> DialUpgradeAsync(RelayClientOptions options, CancellationToken cancellationToken)
    {
        var url = options.Url;
        var stream = await Connect(new DnsEndPoint(url.IdnHost, url.Port), options, cancellationToken).ConfigureAwait(false);
        try
        {
            if (url.Scheme == Uri.UriSchemeHttps)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                var authentication = new SslClientAuthenticationOptions
                {
                    TargetHost = url.IdnHost,
                    RemoteCertificateValidationCallback = options.CertificateValidation,
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                };
                options.PrivateCa?.ApplyTo(authentication);
                await tls.AuthenticateAsClientAsync(authentication, cancellationToken).ConfigureAwait(false);
            }

            var request = $"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nConnection: Upgrade\r\nUpgrade: {RelayProtocol.UpgradeToken}\r\nUser-Agent: trellis-relay/{RelayProtocol.Version}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken).ConfigureAwait(false);
            var reader = new FrameReader(stream, ReadAhead);
            var status = ParseStatus(await reader.ReadLineAsync(1024, cancellationToken).ConfigureAwait(false));
            var contentLength = 0;
            for (var headers = 0; ; headers++)
            {
                var line = await reader.ReadLineAsync(8192, cancellationToken).ConfigureAwait(false);
                if (line.Length == 0)
                {
                    break;
                }

                if (headers > 100)
                {
                    throw new RelayConnectException($"{url} answered with too many headers");
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line.AsSpan(0, colon).Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    _ = int.TryParse(line.AsSpan(colon + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out contentLength);
                }
            }

            if (status != 101)
            {
                var body = await reader.ReadTextAsync(Math.Min(contentLength, 512), cancellationToken).ConfigureAwait(false);
                throw new RelayConnectException($"{url} answered HTTP {status} instead of upgrading: {body.Trim()}") { HttpStatus = status };
            }

            return (stream, reader);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Address by address, with the connect timeout shared out: a relay name with several replicas'
    /// addresses reaches a live one when one host is dead, and a failure names each address and why.
    /// </summary>
    private static ValueTask<Stream> Connect(DnsEndPoint target, RelayClientOptions options, CancellationToken cancellationToken) =>
        AddressByAddressConnector.ConnectAsync(target, Dns.GetHostAddressesAsync, options.ConnectTimeout, cancellationToken);

    private static int ParseStatus(string statusLine)
    {
        // "HTTP/1.1 101 Switching Protocols"
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/", StringComparison.Ordinal) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new RelayConnectException($"not an HTTP response: \"{statusLine}\"");
        }

        return status;
    }

    private static async Task<(Stream, FrameReader)> DialWebSocketAsync(RelayClientOptions options, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        var url = new UriBuilder(options.Url) { Scheme = options.Url.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" }.Uri;
        try
        {
            await socket.ConnectAsync(url, Invoker(options), cancellationToken).ConfigureAwait(false);
        }
        catch (WebSocketException e)
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            throw new RelayConnectException($"{url} refused the WebSocket{(status > 0 ? $" with HTTP {status}" : "")}: {e.Message}", e) { HttpStatus = status > 0 ? status : null };
        }

        var stream = new WebSocketByteStream(socket);
        return (stream, new FrameReader(stream, ReadAhead));
    }

    /// <summary>
    /// The WebSocket's HTTP connection, dialled as the upgrade's is (ClientWebSocket's own connect has
    /// no hook for the underlay mark or the address-by-address connect). The handler lives as long as
    /// the WebSocket it made, so it is not disposed here; it takes the TLS settings itself.
    /// </summary>
    private static HttpMessageInvoker Invoker(RelayClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = (context, ct) => Connect(context.DnsEndPoint, options, ct),
        };
        if (options.CertificateValidation is { } validation)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = validation;
        }
        else
        {
            options.PrivateCa?.ApplyTo(handler.SslOptions);
        }

        return new HttpMessageInvoker(handler, disposeHandler: true);
    }
}
