using System.Diagnostics.Metrics;
using Prometheus;
using Trellis.Core.Metrics;

namespace Trellis.Cli.Metrics;

/// <summary>
/// Trellis's meters (<see cref="MeterNames.Prefix"/>) in Prometheus form, through <see cref="MeterBridge"/>
/// into a prometheus-net registry of our own: nothing else (no process or runtime series, no ASP.NET
/// Core meters), so what a scrape returns is what docs/ARCHITECTURE.md lists.
/// </summary>
internal sealed class MetricsExporter : IDisposable
{
    /// <summary>Latency buckets from 0.5 ms to about 16 s, doubling: control requests and policy compiles both fit.</summary>
    private static readonly double[] SecondsBuckets = Histogram.ExponentialBuckets(0.0005, 2, 16);

    private readonly MeterBridge _bridge;

    public MetricsExporter()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        _bridge = new MeterBridge(Registry, IsTrellis, SecondsBuckets);
    }

    public CollectorRegistry Registry { get; }

    public static bool IsTrellis(Instrument instrument) => instrument.Meter.Name.StartsWith(MeterNames.Prefix, StringComparison.Ordinal);

    /// <summary>The Prometheus text exposition of every Trellis series now.</summary>
    public async Task<string> ScrapeAsync(CancellationToken cancellationToken = default)
    {
        using var text = new MemoryStream();
        await Registry.CollectAndExportAsTextAsync(text, cancellationToken).ConfigureAwait(false);
        return System.Text.Encoding.UTF8.GetString(text.ToArray());
    }

    public void Dispose() => _bridge.Dispose();
}
