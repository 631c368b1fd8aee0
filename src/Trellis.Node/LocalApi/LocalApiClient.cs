using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Trellis.Node.LocalApi;

/// <summary>
/// Talks to a daemon's local API over its Unix socket. Every failure is a <see cref="LocalApiException"/>
/// with a sentence a person can act on (no daemon, no permission, the daemon's own error).
/// </summary>
public sealed class LocalApiClient : IDisposable
{
    private readonly HttpClient _http;

    public LocalApiClient(string socketPath, TimeSpan? timeout = null)
    {
        SocketPath = socketPath;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };

        // `up` waits for registration and the first map, which can take a while on a slow server.
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://trellis-daemon/"), Timeout = timeout ?? TimeSpan.FromMinutes(2) };
    }

    public string SocketPath { get; }

    public async Task<StatusResponse> StatusAsync(CancellationToken cancellationToken) =>
        Parse(await SendAsync(HttpMethod.Get, "v1/status", null, cancellationToken).ConfigureAwait(false), LocalApiJsonContext.Default.StatusResponse);

    /// <summary>The status exactly as the daemon wrote it (for `status --json`).</summary>
    public Task<string> StatusJsonAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "v1/status", null, cancellationToken);

    public async Task<UpResponse> UpAsync(UpRequest request, CancellationToken cancellationToken)
    {
        var body = new StringContent(JsonSerializer.Serialize(request, LocalApiJsonContext.Default.UpRequest), Encoding.UTF8, "application/json");
        return Parse(await SendAsync(HttpMethod.Post, "v1/up", body, cancellationToken).ConfigureAwait(false), LocalApiJsonContext.Default.UpResponse);
    }

    public async Task<PrefsResponse> SetAsync(SetRequest request, CancellationToken cancellationToken)
    {
        var body = new StringContent(JsonSerializer.Serialize(request, LocalApiJsonContext.Default.SetRequest), Encoding.UTF8, "application/json");
        return Parse(await SendAsync(HttpMethod.Post, "v1/set", body, cancellationToken).ConfigureAwait(false), LocalApiJsonContext.Default.PrefsResponse);
    }

    public async Task<PrefsResponse> PrefsAsync(CancellationToken cancellationToken) =>
        Parse(await SendAsync(HttpMethod.Get, "v1/prefs", null, cancellationToken).ConfigureAwait(false), LocalApiJsonContext.Default.PrefsResponse);

    public async Task<StatusResponse> DownAsync(CancellationToken cancellationToken) =>
        Parse(await SendAsync(HttpMethod.Post, "v1/down", null, cancellationToken).ConfigureAwait(false), LocalApiJsonContext.Default.StatusResponse);

    public async Task<StatusResponse> LogoutAsync(CancellationToken cancellationToken) =>
        Parse(await SendAsync(HttpMethod.Post, "v1/logout", null, cancellationToken).ConfigureAwait(false), LocalApiJsonContext.Default.StatusResponse);

    public async Task<PingResponse> PingAsync(PingRequest request, CancellationToken cancellationToken)
    {
        var body = new StringContent(JsonSerializer.Serialize(request, LocalApiJsonContext.Default.PingRequest), Encoding.UTF8, "application/json");
        return Parse(await SendAsync(HttpMethod.Post, "v1/ping", body, cancellationToken).ConfigureAwait(false), LocalApiJsonContext.Default.PingResponse);
    }

    /// <summary>The daemon's netcheck report as JSON, exactly as the daemon wrote it.</summary>
    public Task<string> NetcheckJsonAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "v1/netcheck", null, cancellationToken);

    private async Task<string> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new LocalApiException(LocalApiErrors.Unavailable, Unreachable(e), e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LocalApiException(LocalApiErrors.Timeout, $"the trellis daemon did not answer within {_http.Timeout.TotalSeconds:0} s", e);
        }

        using (response)
        {
            var json = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return json;
            }

            ErrorResponse? error = null;
            try
            {
                error = JsonSerializer.Deserialize(json, LocalApiJsonContext.Default.ErrorResponse);
            }
            catch (JsonException)
            {
                // not ours; described below
            }

            throw error is null
                ? new LocalApiException(LocalApiErrors.Failed, $"the daemon answered {(int)response.StatusCode} {response.ReasonPhrase}")
                : new LocalApiException(error.Code, error.Error);
        }
    }

    private string Unreachable(HttpRequestException e)
    {
        var reason = (e.InnerException as SocketException)?.SocketErrorCode;
        return reason switch
        {
            SocketError.AccessDenied => $"permission denied on {SocketPath}: only root (or the daemon's own user) may talk to the trellis daemon",
            _ when !File.Exists(SocketPath) => $"no trellis daemon at {SocketPath}: is `trellis daemon` running? (--socket or TRELLIS_SOCKET name another socket)",
            _ => $"cannot reach the trellis daemon at {SocketPath}: {e.InnerException?.Message ?? e.Message}; is `trellis daemon` running?",
        };
    }

    private static T Parse<T>(string json, JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new LocalApiException(LocalApiErrors.Failed, "the daemon sent an answer this CLI does not understand; is it the same version of Trellis?", e);
        }
    }

    public void Dispose() => _http.Dispose();
}
