using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Trellis.Cli.Metrics;

/// <summary>
/// GET /metrics for Prometheus on an address of its own (plain HTTP), apart from the server's or the
/// relay's public listener: operators open it to their monitoring network only.
/// </summary>
internal sealed class MetricsListener : IAsyncDisposable
{
    public const string Path = "/metrics";

    private readonly WebApplication _app;
    private readonly MetricsExporter _exporter;

    private MetricsListener(WebApplication app, MetricsExporter exporter, Uri url)
    {
        _app = app;
        _exporter = exporter;
        Url = url;
    }

    /// <summary>Where Prometheus scrapes, e.g. http://127.0.0.1:9090/metrics (port 0 resolved).</summary>
    public Uri Url { get; }

    /// <summary>Binds <paramref name="address"/>; a busy or foreign address throws <see cref="IOException"/> saying which.</summary>
    public static async Task<MetricsListener> StartAsync(IPEndPoint address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address));
        var app = builder.Build();
        var exporter = new MetricsExporter();
        app.MapMetrics(Path, exporter.Registry);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            exporter.Dispose();
            await app.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"cannot serve metrics on {address}: {(e.InnerException ?? e).Message}", e);
        }

        return new MetricsListener(app, exporter, new Uri(new Uri(app.Urls.First()), Path));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _exporter.Dispose();
    }
}
