using Microsoft.Extensions.Logging;
using Trellis.Core.Metrics;
using Trellis.Node.LocalApi;

namespace Trellis.Node.Daemon;

// The opt-in Prometheus listener (the metrics-listen setting): served from the saved setting at start,
// moved when `up` or `set` changes it. The listener itself comes from the host (NodeDaemonOptions.MetricsListener).
public sealed partial class NodeDaemon
{
    // guarded by _gate (StartAsync holds it until started; DisposeAsync runs after the local API stopped)
    private IAsyncDisposable? _metricsListener;
    private string? _metricsServing;

    /// <summary>The setting as given, in its canonical form ("" stays "": off; null: not given).</summary>
    private static string? ValidateMetricsListen(string? given)
    {
        if (given is null || given.Trim().Length == 0)
        {
            return given is null ? null : "";
        }

        return MetricsAddress.TryParse(given, out var error)?.ToString()
            ?? throw new LocalApiException(LocalApiErrors.Invalid, $"--metrics-listen {error}; nothing was changed");
    }

    /// <summary>Serves metrics at <paramref name="wanted"/> (null: nowhere); a new address is bound before the old one closes, so a failure changes nothing.</summary>
    private async Task ServeMetricsAsync(string? wanted)
    {
        if (wanted == _metricsServing)
        {
            return;
        }

        IAsyncDisposable? started = null;
        if (wanted is not null)
        {
            var serve = _options.MetricsListener
                ?? throw new LocalApiException(LocalApiErrors.Failed, "this daemon was started without a metrics exporter; nothing was changed");
            try
            {
                started = await serve(MetricsAddress.Parse(wanted, "--metrics-listen"), CancellationToken.None).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new LocalApiException(LocalApiErrors.Failed, $"{e.Message}; nothing was changed");
            }
        }

        var old = _metricsListener;
        _metricsListener = started;
        _metricsServing = wanted;
        if (old is not null)
        {
            await old.DisposeAsync().ConfigureAwait(false);
        }

        LogMetrics(_logger, wanted ?? "off");
    }

    /// <summary>At start and when an `up` is undone: a listener that cannot bind is logged, and the daemon runs on without it.</summary>
    private async Task ServeMetricsQuietlyAsync(string? wanted)
    {
        try
        {
            await ServeMetricsAsync(wanted).ConfigureAwait(false);
        }
        catch (LocalApiException e)
        {
            LogMetricsFailed(_logger, e.Message);
        }
    }

    private async Task StopMetricsAsync()
    {
        if (_metricsListener is { } listener)
        {
            _metricsListener = null;
            _metricsServing = null;
            await listener.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "metrics: {Address}")]
    private static partial void LogMetrics(ILogger logger, string address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "not serving metrics: {Reason}")]
    private static partial void LogMetricsFailed(ILogger logger, string reason);
}
