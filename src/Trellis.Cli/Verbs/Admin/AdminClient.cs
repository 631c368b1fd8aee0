using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Trellis.Control.Admin;
using Trellis.Core.Tls;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>
/// Talks to a control server's admin API, either a remote one over HTTP(S) with an API key or the
/// local one over its Unix socket (where the server needs no key). Every failure becomes an
/// <see cref="AdminCommandException"/> with a sentence a person can act on.
/// </summary>
internal sealed class AdminClient : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly string _target;
    private readonly string _unreachableHint;

    private AdminClient(HttpClient http, string target, string unreachableHint)
    {
        _http = http;
        _target = target;
        _unreachableHint = unreachableHint;
    }

    /// <param name="ca">A private CA (--ca-cert) trusted beside the system's roots, or null.</param>
    public static AdminClient ForServer(Uri server, string apiKey, PrivateCa? ca = null)
    {
        // A trailing slash keeps a path prefix (a server behind a proxy at /trellis/) when joining.
        var baseAddress = server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/");
        var http = new HttpClient(Trellis.Core.Transport.AddressByAddressConnector.Handler(Timeout, ca)) { BaseAddress = baseAddress, Timeout = Timeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return new AdminClient(http, server.GetLeftPart(UriPartial.Authority), "check --server and that the server is running");
    }

    public static AdminClient ForSocket(string path)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch (SocketException) when (!File.Exists(path))
                {
                    // .NET words a missing socket file as "Cannot assign requested address".
                    socket.Dispose();
                    throw new IOException("there is no such socket");
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var http = new HttpClient(handler) { BaseAddress = new Uri("http://localhost/"), Timeout = Timeout };
        return new AdminClient(
            http,
            $"the admin socket {path}",
            "is `trellis server` running on this host, and are you root or its user? Elsewhere use --server URL with --api-key");
    }

    public Task<AdminReply<T>> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, path, null, type, ct);

    public Task<AdminReply<T>> PostAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, path, null, type, ct);

    public Task<AdminReply<T>> PostAsync<TBody, T>(string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, path, new StringContent(JsonSerializer.Serialize(body, bodyType), Encoding.UTF8, "application/json"), type, ct);

    /// <summary>A PUT whose body is text as it is (a policy file), not JSON.</summary>
    public Task<AdminReply<T>> PutTextAsync<T>(string path, string text, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, path, new StringContent(text, Encoding.UTF8, "text/plain"), type, ct);

    public async Task DeleteAsync(string path, CancellationToken ct) =>
        await SendAsync<object>(HttpMethod.Delete, path, null, null, ct).ConfigureAwait(false);

    private async Task<AdminReply<T>> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T>? type, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/')) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            var reason = Trellis.Core.Transport.ConnectionFailures.Describe(e, _http.BaseAddress?.Host ?? _target);
            throw new AdminCommandException(reason.Contains("TLS certificate", StringComparison.Ordinal)
                ? $"cannot reach {_target}: {reason}"
                : $"cannot reach {_target}: {reason}; {_unreachableHint}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new AdminCommandException($"{_target} did not answer within {Timeout.TotalSeconds:0} s");
        }

        using (response)
        {
            var json = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new AdminCommandException(Failure(response.StatusCode, json));
            }

            if (type is null)
            {
                return new AdminReply<T>(default!, json);
            }

            try
            {
                return new AdminReply<T>(JsonSerializer.Deserialize(json, type) ?? throw new JsonException("null"), json);
            }
            catch (JsonException)
            {
                throw new AdminCommandException($"{_target} sent an answer this CLI does not understand; is it a Trellis server of the same version?");
            }
        }
    }

    private string Failure(HttpStatusCode status, string body)
    {
        string? message = null;
        try
        {
            message = JsonSerializer.Deserialize(body, AdminJsonContext.Default.ErrorResponse)?.Error;
        }
        catch (JsonException)
        {
        }

        if (message is null)
        {
            return $"{_target} answered {(int)status} {status}; is it a Trellis server?";
        }

        return status == HttpStatusCode.Unauthorized
            ? $"{_target} refused the request: {message} (give --api-key or set TRELLIS_API_KEY)"
            : message;
    }

    /// <summary>The innermost cause, which says what actually went wrong (refused, no such file, permission denied).</summary>
    public void Dispose() => _http.Dispose();
}
