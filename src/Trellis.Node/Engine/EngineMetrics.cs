using System.Diagnostics.Metrics;
using Trellis.Core.Control;
using Trellis.Core.Metrics;
using Trellis.WireGuard;

namespace Trellis.Node.Engine;

/// <summary>
/// The data plane's instruments, read when a scrape asks: peers by path from the engine's status, and
/// the totals the WireGuard device already counts. The packet threads do nothing for metrics.
/// Labels are bounded: a path kind or a drop reason, never a peer.
/// </summary>
internal sealed class EngineMetrics : IDisposable
{
    private static readonly string[] PathKinds = [PathKind.Direct, PathKind.PeerRelay, PathKind.Relay, PathKind.None];

    private readonly Meter _meter = new(MeterNames.Node);
    private readonly PeerByteTotal _received = new();
    private readonly PeerByteTotal _sent = new();

    /// <summary>This engine's meter (tests listen to it alone).</summary>
    internal Meter Meter => _meter;

    public EngineMetrics(Func<EngineStatus> status, DeviceCounters counters)
    {
        _meter.CreateObservableGauge("peers", () => PeersByPath(status()), "{peer}", "Peers by how packets reach them now.");
        _meter.CreateObservableCounter("received_bytes_total", () => _received.Total(status().Peers, p => p.RxBytes), "By", "Bytes received from peers, those since removed included.");
        _meter.CreateObservableCounter("sent_bytes_total", () => _sent.Total(status().Peers, p => p.TxBytes), "By", "Bytes sent to peers, those since removed included.");
        _meter.CreateObservableCounter("handshakes_total", () => Interlocked.Read(ref counters.HandshakesCompleted), "{handshake}", "WireGuard handshakes completed.");
        _meter.CreateObservableCounter("dropped_packets_total", () => Drops(counters), "{packet}", "Packets dropped, by reason.");
    }

    private static Measurement<int>[] PeersByPath(EngineStatus status)
    {
        var result = new Measurement<int>[PathKinds.Length];
        for (var i = 0; i < PathKinds.Length; i++)
        {
            var kind = PathKinds[i];
            result[i] = new(status.Peers.Count(p => p.Path == kind), new KeyValuePair<string, object?>("path", kind));
        }

        return result;
    }

    private static Measurement<long>[] Drops(DeviceCounters counters) =>
    [
        Drop(ref counters.MalformedPackets, "malformed"),
        Drop(ref counters.UnknownReceiverIndex, "unknown_receiver"),
        Drop(ref counters.DecryptionFailed, "decryption_failed"),
        Drop(ref counters.ExpiredKeypair, "expired_keypair"),
        Drop(ref counters.ReplayedPackets, "replayed"),
        Drop(ref counters.SourceNotAllowed, "source_not_allowed"),
        Drop(ref counters.DroppedByFilter, "policy"),
        Drop(ref counters.NoPeerForDestination, "no_peer"),
        Drop(ref counters.NoEndpoint, "no_endpoint"),
        Drop(ref counters.RoutingLoop, "routing_loop"),
        Drop(ref counters.StagedDropped, "staged_overflow"),
        Drop(ref counters.HandshakeQueueFull, "handshake_queue_full"),
        Drop(ref counters.RateLimited, "rate_limited"),
    ];

    private static Measurement<long> Drop(ref long counter, string reason) =>
        new(Interlocked.Read(ref counter), new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
