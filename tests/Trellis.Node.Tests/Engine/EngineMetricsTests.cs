using System.Diagnostics.Metrics;
using Trellis.Core.Control;
using Trellis.Node.Engine;
using Trellis.WireGuard;

namespace Trellis.Node.Tests.Engine;

/// <summary>The node's instruments report what `trellis status` and the device's counters say, by bounded labels.</summary>
public sealed class EngineMetricsTests
{
    private static PeerStatus Peer(long id, string path, long rx, long tx) => new(id, $"key{id}", path, null, null, null, rx, tx);

    /// <summary>Every measurement of this metrics object's instruments, as "instrument{label=value} number".</summary>
    private static List<string> Observe(EngineMetrics metrics)
    {
        var seen = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == metrics.Meter)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((i, value, tags, _) => seen.Add(Line(i, value, tags)));
        listener.SetMeasurementEventCallback<long>((i, value, tags, _) => seen.Add(Line(i, value, tags)));
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }

    private static string Line(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        $"{instrument.Name}{(tags.Length == 0 ? "" : $"{{{tags[0].Key}={tags[0].Value}}}")} {value}";

    [Fact]
    public void Peers_are_counted_by_path_and_bytes_and_drops_come_from_the_engine()
    {
        var status = new EngineStatus([Peer(1, PathKind.Relay, 100, 10), Peer(2, PathKind.Relay, 50, 5), Peer(3, PathKind.Direct, 1, 2)]);
        var counters = new DeviceCounters { HandshakesCompleted = 4, DroppedByFilter = 3, ReplayedPackets = 2 };
        using var metrics = new EngineMetrics(() => status, counters);

        var seen = Observe(metrics);

        Assert.Contains("peers{path=relay} 2", seen);
        Assert.Contains("peers{path=direct} 1", seen);
        Assert.Contains("peers{path=peer-relay} 0", seen);
        Assert.Contains("peers{path=none} 0", seen);
        Assert.Contains("received_bytes_total 151", seen);
        Assert.Contains("sent_bytes_total 17", seen);
        Assert.Contains("handshakes_total 4", seen);
        Assert.Contains("dropped_packets_total{reason=policy} 3", seen);
        Assert.Contains("dropped_packets_total{reason=replayed} 2", seen);
        Assert.Contains("dropped_packets_total{reason=no_peer} 0", seen);
    }

    [Fact]
    public void Byte_totals_never_fall_when_a_peer_leaves_or_counts_again_from_zero()
    {
        var status = new EngineStatus([Peer(1, PathKind.Direct, 100, 10), Peer(2, PathKind.Relay, 50, 5)]);
        using var metrics = new EngineMetrics(() => status, new DeviceCounters());
        Assert.Contains("received_bytes_total 150", Observe(metrics));

        // Peer 2 is removed; peer 1 is re-keyed (a new device peer counting from zero) and moves 7 more bytes.
        status = new EngineStatus([Peer(1, PathKind.Direct, 7, 1)]);
        var seen = Observe(metrics);
        Assert.Contains("received_bytes_total 157", seen);
        Assert.Contains("sent_bytes_total 16", seen);

        status = new EngineStatus([Peer(1, PathKind.Direct, 20, 1), Peer(3, PathKind.Direct, 5, 0)]);
        Assert.Contains("received_bytes_total 175", Observe(metrics));
    }
}
