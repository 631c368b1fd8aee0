using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Trellis.Node.LocalApi;

/// <summary>
/// The daemon's local API: HTTP/1.1 on a Unix socket only (a TCP port would be reachable from any
/// web page in a browser), for root and the daemon's user. GET /v1/status, POST /v1/up, /v1/down,
/// /v1/logout; errors are an <see cref="ErrorResponse"/> with a status that matches its code.
/// </summary>
public sealed partial class LocalApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LocalApiServer(WebApplication app, string socketPath)
    {
        _app = app;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    /// <param name="allowedUid">Who may connect; default root and the daemon's own user.</param>
    /// <exception cref="IOException">Another daemon listens on <paramref name="socketPath"/>.</exception>
    public static async Task<LocalApiServer> StartAsync(
        string socketPath, ILocalApiBackend backend, ILoggerFactory loggerFactory, Func<uint, bool>? allowedUid = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var path = Path.GetFullPath(socketPath);
        LocalApiSocket.Prepare(path);
        var allowed = allowedUid ?? PeerCredentials.IsRootOrDaemonUser;
        // The empty builder: Kestrel and routing only. The slim one also reads appsettings files and the
        // environment (and watches them), and brings HTTPS and logging set-up a Unix socket never uses.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddLogging();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(path));
        var app = builder.Build();
        var logger = loggerFactory.CreateLogger<LocalApiServer>();

        app.Use(async (context, next) =>
        {
            if (!PeerCredentials.IsAllowed(context, allowed))
            {
                LogRefused(logger, context.Request.Path);
                await WriteErrorAsync(context, new LocalApiException(
                    LocalApiErrors.Forbidden, "only root and the daemon's own user may use the trellis daemon's socket")).ConfigureAwait(false);
                return;
            }

            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (LocalApiException e)
            {
                await WriteErrorAsync(context, e).ConfigureAwait(false);
            }
        });

        // Plain request delegates that write their own JSON: no reflection, and no doubt about what is sent.
        var json = LocalApiJsonContext.Relaxed;
        app.MapGet("/v1/status", context => WriteAsync(context, backend.Status(), json.StatusResponse));
        app.MapPost("/v1/up", async context =>
        {
            var request = await ReadAsync(context, LocalApiJsonContext.Default.UpRequest, "up").ConfigureAwait(false);
            await WriteAsync(context, await backend.UpAsync(request, context.RequestAborted).ConfigureAwait(false), json.UpResponse).ConfigureAwait(false);
        });
        app.MapGet("/v1/prefs", context => WriteAsync(context, backend.Prefs(), json.PrefsResponse));
        app.MapPost("/v1/set", async context =>
        {
            var request = await ReadAsync(context, LocalApiJsonContext.Default.SetRequest, "set").ConfigureAwait(false);
            await WriteAsync(context, await backend.SetAsync(request, context.RequestAborted).ConfigureAwait(false), json.PrefsResponse).ConfigureAwait(false);
        });
        app.MapPost("/v1/down", async context =>
            await WriteAsync(context, await backend.DownAsync(context.RequestAborted).ConfigureAwait(false), json.StatusResponse).ConfigureAwait(false));
        app.MapPost("/v1/ping", async context =>
        {
            var request = await ReadAsync(context, LocalApiJsonContext.Default.PingRequest, "ping").ConfigureAwait(false);
            await WriteAsync(context, await backend.PingAsync(request, context.RequestAborted).ConfigureAwait(false), json.PingResponse).ConfigureAwait(false);
        });
        app.MapGet("/v1/netcheck", async context =>
            await WriteAsync(context, await backend.NetcheckAsync(context.RequestAborted).ConfigureAwait(false), Trellis.Net.Netcheck.NetcheckJsonContext.Default.NetcheckReport).ConfigureAwait(false));
        app.MapPost("/v1/logout", async context =>
            await WriteAsync(context, await backend.LogoutAsync(context.RequestAborted).ConfigureAwait(false), json.StatusResponse).ConfigureAwait(false));

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            LocalApiSocket.Secure(path);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            File.Delete(path);
            throw;
        }

        return new LocalApiServer(app, path);
    }

    private static async Task<T> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> type, string what)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync(context.Request.Body, type, context.RequestAborted).ConfigureAwait(false)
                   ?? throw new LocalApiException(LocalApiErrors.Invalid, "the request body is JSON null");
        }
        catch (JsonException e)
        {
            throw new LocalApiException(LocalApiErrors.Invalid, $"the request body is not a valid {what} request: {e.Message}", e);
        }
    }

    private static Task WriteAsync<T>(HttpContext context, T value, JsonTypeInfo<T> type) =>
        context.Response.WriteAsJsonAsync(value, type, contentType: null, context.RequestAborted);

    private static Task WriteErrorAsync(HttpContext context, LocalApiException error)
    {
        context.Response.StatusCode = error.Code switch
        {
            LocalApiErrors.Invalid => StatusCodes.Status400BadRequest,
            LocalApiErrors.Forbidden => StatusCodes.Status403Forbidden,
            LocalApiErrors.Rejected => StatusCodes.Status422UnprocessableEntity,
            LocalApiErrors.Unreachable or LocalApiErrors.NotTrellisServer => StatusCodes.Status502BadGateway,
            LocalApiErrors.Timeout => StatusCodes.Status504GatewayTimeout,
            _ => StatusCodes.Status500InternalServerError,
        };
        return context.Response.WriteAsJsonAsync(
            new ErrorResponse { Code = error.Code, Error = error.Message }, LocalApiJsonContext.Relaxed.ErrorResponse, contentType: null, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        File.Delete(SocketPath);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "local API: refused a caller that is neither root nor the daemon's user ({Path})")]
    private static partial void LogRefused(ILogger logger, string path);
}
