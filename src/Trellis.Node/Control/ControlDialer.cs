using System.Net;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Trellis.Core.Keys;
using Trellis.Core.Tls;
using Trellis.Core.Transport;
using Trellis.Crypto.Noise;

namespace Trellis.Node.Control;

/// <summary>
/// Opens the control channel: the server's key from GET {server}/key, checked against the pinned key
/// when there is one, a WebSocket to {server}/control, the Noise IK handshake with the machine key.
/// The handshake is what proves the server: only the holder of the pinned key's private half completes
/// it, so an answer to GET /key alone is never trusted once a key is pinned. Failures become a
/// <see cref="ControlException"/> telling "nobody answers" from "that is not a Trellis server" from
/// "that is not the server this node trusts".
/// </summary>
internal static class ControlDialer
{
    private static readonly Clients SystemTrust = new(null);

    // One pair of clients per private CA (a daemon has one for its life), so connections are pooled as before.
    private static readonly ConditionalWeakTable<PrivateCa, Clients> PrivateTrust = [];

    /// <summary>Connects; <paramref name="pinned"/> null trusts the key the server presents (the caller pins what it returns).</summary>
    /// <param name="ca">A private CA to trust beside the system's roots (--ca-cert), or null.</param>
    public static async Task<(NoiseControlChannel Channel, Key ServerKey)> ConnectAsync(
        Uri server, Key machineKey, Key? pinned, PrivateCa? ca, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clients = ca is null ? SystemTrust : PrivateTrust.GetValue(ca, c => new Clients(c));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var presented = await FetchServerKeyAsync(clients.Http, server, deadline.Token).ConfigureAwait(false);
            if (pinned is { } trusted && !trusted.Equals(presented))
            {
                throw KeyChanged(server, trusted, presented);
            }

            var serverKey = pinned ?? presented;
            var socket = new ClientWebSocket();
            socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(25);
            socket.Options.KeepAliveTimeout = TimeSpan.FromSeconds(20); // a half-open connection is noticed within ~45 s
            try
            {
                await ConnectWebSocketAsync(socket, clients.WebSocket, server, deadline.Token).ConfigureAwait(false);
                return (await NoiseControlChannel.ConnectAsync(socket, machineKey, serverKey, deadline.Token).ConfigureAwait(false), serverKey);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ControlException(ControlErrorKind.Unreachable, $"{Describe(server)} did not answer within {timeout.TotalSeconds:0} s");
        }
        catch (NoiseHandshakeException e)
        {
            throw new ControlException(ControlErrorKind.Protocol, $"the control handshake with {Describe(server)} failed: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new ControlException(ControlErrorKind.Protocol, $"the control handshake with {Describe(server)} failed: {e.Message}", e);
        }
    }

    /// <summary>{server}/{relative}, keeping a path prefix the server URL may have.</summary>
    public static Uri Resolve(Uri server, string relative, string? scheme = null)
    {
        var baseUri = server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/");
        var target = new Uri(baseUri, relative);
        return scheme is null ? target : new UriBuilder(target) { Scheme = scheme, Port = target.Port }.Uri;
    }

    private static async Task<Key> FetchServerKeyAsync(HttpClient http, Uri server, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(Resolve(server, "key"), cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ControlException(ControlErrorKind.Unreachable, $"cannot reach {Describe(server)}: {ConnectionFailures.Describe(e, server.Host)}", e);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw NotTrellis(server, $"GET /key answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (json.RootElement.ValueKind == JsonValueKind.Object
                    && json.RootElement.TryGetProperty("publicKey", out var key)
                    && key.ValueKind == JsonValueKind.String
                    && Key.TryParseBase64(key.GetString(), out var parsed))
                {
                    return parsed;
                }
            }
            catch (JsonException)
            {
                // falls through to the error below
            }
            catch (HttpRequestException e)
            {
                throw new ControlException(ControlErrorKind.Unreachable, $"the connection to {Describe(server)} broke: {ConnectionFailures.Describe(e, server.Host)}", e);
            }

            throw NotTrellis(server, "GET /key did not return a server key");
        }
    }

    private static async Task ConnectWebSocketAsync(ClientWebSocket socket, HttpMessageInvoker invoker, Uri server, CancellationToken cancellationToken)
    {
        var control = Resolve(server, "control", server.Scheme == Uri.UriSchemeHttps ? "wss" : "ws");
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(control, invoker, cancellationToken).ConfigureAwait(false);
        }
        catch (WebSocketException e)
        {
            throw socket.HttpStatusCode is not 0 and not HttpStatusCode.SwitchingProtocols
                ? NotTrellis(server, $"the WebSocket upgrade of /control answered {(int)socket.HttpStatusCode}")
                : new ControlException(ControlErrorKind.Unreachable, $"cannot open the control channel to {Describe(server)}: {ConnectionFailures.Describe(e, server.Host)}", e);
        }
    }

    private static ControlException KeyChanged(Uri server, Key pinned, Key presented) => new(
        ControlErrorKind.ServerKeyChanged,
        $"{Describe(server)} presents the server key {presented.ToBase64()}, but this node trusts {pinned.ToBase64()} "
        + "(pinned at its first `up` or given with --server-key); refusing to connect, since someone may be impersonating the server. "
        + $"If the server's key was replaced on purpose, ask its operator for the key `trellis server` prints and re-pin it: "
        + $"trellis up --server {Describe(server)} --server-key KEY");

    private static ControlException NotTrellis(Uri server, string detail) =>
        new(ControlErrorKind.NotTrellisServer, $"{Describe(server)} is not a Trellis control server ({detail}); check the server URL");

    private static string Describe(Uri server) => server.AbsoluteUri.TrimEnd('/');

    /// <summary>GET /key and the WebSocket over one handler: the same connect and trust, so their failures are described alike.</summary>
    private sealed class Clients
    {
        public Clients(PrivateCa? ca)
        {
            var handler = AddressByAddressConnector.Handler(TimeSpan.FromSeconds(10), ca);
            Http = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan }; // each call has its own deadline
            WebSocket = new HttpMessageInvoker(handler, disposeHandler: false);
        }

        public HttpClient Http { get; }

        public HttpMessageInvoker WebSocket { get; }
    }
}
