using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Prometheus;

namespace Trellis.Cli.Metrics;

/// <summary>
/// Feeds the measurements of Trellis's instruments into prometheus-net collectors of one registry:
/// observable counters become counters (IncTo the total read), observable gauges gauges, histograms
/// histograms, each named meter + instrument (trellis.relay + clients = trellis_relay_clients). The
/// observable ones are read just before each scrape. Used instead of prometheus-net's own meter adapter,
/// which exports every counter as a gauge and, in our tests, left a custom registry's series out of its scrapes.
/// </summary>
internal sealed class MeterBridge : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly IMetricFactory _factory;
    private readonly Func<Instrument, bool> _include;
    private readonly double[] _buckets;
    private readonly ConcurrentDictionary<Instrument, (string Name, string Help)> _names = new();
    private volatile bool _disposed;

    public MeterBridge(CollectorRegistry registry, Func<Instrument, bool> include, double[] buckets)
    {
        _factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _include = include;
        _buckets = buckets;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_include(instrument))
            {
                _names[instrument] = (Name(instrument), Help(instrument));
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => _names.TryRemove(instrument, out (string, string) _);
        _listener.SetMeasurementEventCallback<int>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Record(i, value, tags));
        _listener.Start();
        registry.AddBeforeCollectCallback(() =>
        {
            if (!_disposed)
            {
                _listener.RecordObservableInstruments();
            }
        });
    }

    /// <summary>meter "trellis.relay" + instrument "forwarded_bytes_total": trellis_relay_forwarded_bytes_total.</summary>
    public static string Name(Instrument instrument) =>
        $"{instrument.Meter.Name}_{instrument.Name}".Replace('.', '_').Replace('-', '_');

    private static string Help(Instrument instrument) =>
        string.IsNullOrEmpty(instrument.Unit) ? instrument.Description ?? "" : $"{instrument.Description} ({instrument.Unit})";

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_names.TryGetValue(instrument, out var named))
        {
            return;
        }

        var labelNames = new string[tags.Length];
        var labelValues = new string[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            labelNames[i] = tags[i].Key;
            labelValues[i] = tags[i].Value?.ToString() ?? "";
        }

        switch (instrument)
        {
            case ObservableCounter<int> or ObservableCounter<long> or ObservableCounter<double>:
                _factory.CreateCounter(named.Name, named.Help, labelNames).WithLabels(labelValues).IncTo(value);
                break;
            case Counter<int> or Counter<long> or Counter<double>:
                _factory.CreateCounter(named.Name, named.Help, labelNames).WithLabels(labelValues).Inc(value);
                break;
            case Histogram<int> or Histogram<long> or Histogram<double>:
                _factory.CreateHistogram(named.Name, named.Help, new HistogramConfiguration { LabelNames = labelNames, Buckets = _buckets })
                    .WithLabels(labelValues).Observe(value);
                break;
            default:
                _factory.CreateGauge(named.Name, named.Help, labelNames).WithLabels(labelValues).Set(value);
                break;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
    }
}
