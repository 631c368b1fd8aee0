using System.Diagnostics.Metrics;
using Trellis.Cli.Metrics;
using Trellis.Core.Metrics;

namespace Trellis.Cli.Tests.Metrics;

/// <summary>What the exporter turns Trellis's meters into: Prometheus text with our names and labels, and nothing of other meters.</summary>
public sealed class MetricsExporterTests
{
    [Fact]
    public async Task A_trellis_meter_is_exported_with_its_labels_and_other_meters_are_not()
    {
        // A name of this test's own: other tests in this process may run Trellis meters at the same time.
        var suffix = Guid.NewGuid().ToString("N")[..8];
        using var meter = new Meter(MeterNames.Prefix + "test" + suffix);
        using var other = new Meter("other.test" + suffix);
        meter.CreateObservableCounter("dropped_packets_total", () => new Measurement<long>(7, new KeyValuePair<string, object?>("reason", "queue_full")));
        var latency = meter.CreateHistogram<double>("compile_seconds");
        other.CreateObservableGauge("hidden", () => 1);
        using var exporter = new MetricsExporter();
        latency.Record(0.003);

        var text = await exporter.ScrapeAsync();

        Assert.Contains($"trellis_test{suffix}_dropped_packets_total{{reason=\"queue_full\"}} 7", text, StringComparison.Ordinal);
        Assert.Contains($"trellis_test{suffix}_compile_seconds_count 1", text, StringComparison.Ordinal);
        Assert.Contains($"trellis_test{suffix}_compile_seconds_bucket{{le=\"0.004\"}} 1", text, StringComparison.Ordinal);
        Assert.DoesNotContain($"other_test{suffix}", text, StringComparison.Ordinal);
    }
}
