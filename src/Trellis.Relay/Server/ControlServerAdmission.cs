using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Core.Transport;

namespace Trellis.Relay.Server;

/// <summary>
/// A standalone relay's admission: it asks the control server whether a node key belongs to an
/// active node, presenting the region's mesh key. Answers are cached briefly (a yes longer than a no,
/// so a node just registered is not kept out for long); when the control server cannot be reached,
/// keys it admitted recently stay admitted for <see cref="StaleGrace"/>; for others it throws
/// <see cref="AdmissionUnavailableException"/> with the reason, so the node hears "try again". At
/// most <see cref="MaxCachedKeys"/> answers are kept, refusals evicted first.
/// </summary>
public sealed partial class ControlServerAdmission : IRelayAdmission, IDisposable
{
    /// <summary>The control server's endpoint: 204 admitted, 404 unknown or inactive.</summary>
    public const string PathPrefix = "/relay/v1/nodes/";

    private readonly HttpClient _http;
    private readonly Uri _controlUrl;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AdmissionCache _cache;

    public ControlServerAdmission(Uri controlUrl, string meshKey, TimeProvider? time = null, ILogger? logger = null, HttpMessageHandler? handler = null, int maxCachedKeys = DefaultMaxCachedKeys)
    {
        ArgumentNullException.ThrowIfNull(controlUrl);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCachedKeys, 1);
        _controlUrl = controlUrl;
        MaxCachedKeys = maxCachedKeys;
        _cache = new AdmissionCache(maxCachedKeys);
        _time = time ?? TimeProvider.System;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.Timeout = TimeSpan.FromSeconds(5);
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", meshKey);
    }

    /// <summary>Answers kept by default: a region's nodes many times over, a few MB at most.</summary>
    public const int DefaultMaxCachedKeys = 65_536;

    public int MaxCachedKeys { get; }

    /// <summary>Answers held now (at most <see cref="MaxCachedKeys"/>).</summary>
    public int CachedKeys => _cache.Count;

    public TimeSpan AllowedFor { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan RefusedFor { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan StaleGrace { get; init; } = TimeSpan.FromMinutes(10);

    public async ValueTask<bool> IsAllowedAsync(Key nodeKey, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var cached = _cache.TryGet(nodeKey, out var entry);
        if (cached && now - entry.At < (entry.Allowed ? AllowedFor : RefusedFor))
        {
            return entry.Allowed;
        }

        string reason;
        try
        {
            using var response = await _http.GetAsync(new Uri(_controlUrl, PathPrefix + nodeKey.ToHex()), cancellationToken).ConfigureAwait(false);
            bool? allowed = response.StatusCode switch
            {
                HttpStatusCode.NoContent or HttpStatusCode.OK => true,
                HttpStatusCode.NotFound => false,
                _ => null,
            };
            if (allowed is { } answer)
            {
                _cache.Set(nodeKey, new AdmissionAnswer(answer, now), StaleGrace);
                return answer;
            }

            reason = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? $"the control server refused this relay's query with HTTP {(int)response.StatusCode}: is the mesh key the server's?"
                : $"the control server answered this relay's query with HTTP {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            reason = $"cannot ask the control server {_controlUrl.Host}: {ConnectionFailures.Describe(e, _controlUrl.Host)}";
        }

        if (cached && entry.Allowed && now - entry.At < StaleGrace)
        {
            LogServedStale(_logger, reason);
            return true;
        }

        throw new AdmissionUnavailableException(reason);
    }

    public void Dispose() => _http.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "admitting a node the control server admitted recently, without asking again: {Reason}")]
    private static partial void LogServedStale(ILogger logger, string reason);
}
