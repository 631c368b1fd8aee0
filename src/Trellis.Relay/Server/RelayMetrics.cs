using System.Diagnostics.Metrics;
using Trellis.Core.Metrics;

namespace Trellis.Relay.Server;

/// <summary>
/// A relay's instruments. All of them read <see cref="RelayServer.Stats"/> when a scrape asks, so the
/// forwarding path keeps only the per-connection counters it already had and does no metrics work.
/// Labels are bounded: a drop reason or a handshake outcome, never a key or an address.
/// </summary>
internal sealed class RelayMetrics : IDisposable
{
    private readonly Meter _meter = new(MeterNames.Relay);

    public RelayMetrics(RelayServer server)
    {
        _meter.CreateObservableGauge("clients", () => server.Stats.Clients, "{client}", "Clients connected and admitted (mesh peers not included).");
        _meter.CreateObservableGauge("connections", () => server.Stats.Connections, "{connection}", "Open connections, handshaking ones included.");
        _meter.CreateObservableGauge("mesh_peers", () => server.Stats.MeshPeersConnected, "{relay}", "Mesh peers (relays of the same region) connected.");
        _meter.CreateObservableCounter("forwarded_packets_total", () => server.Stats.PacketsForwarded, "{packet}", "Packets queued to a local client.");
        _meter.CreateObservableCounter("forwarded_bytes_total", () => server.Stats.BytesForwarded, "By", "Payload bytes queued to a local client.");
        _meter.CreateObservableCounter("dropped_packets_total", () => Drops(server.Stats), "{packet}", "Packets dropped, by reason.");
        _meter.CreateObservableCounter("handshakes_total", () => Handshakes(server.Stats), "{handshake}", "Client handshakes, by outcome.");
    }

    private static Measurement<long>[] Drops(RelayStats stats) =>
    [
        new(stats.DropsQueueFull, new KeyValuePair<string, object?>("reason", "queue_full")),
        new(stats.DropsUnknownDestination, new KeyValuePair<string, object?>("reason", "unknown_destination")),
        new(stats.MeshDrops, new KeyValuePair<string, object?>("reason", "mesh_peer")),
    ];

    private static Measurement<long>[] Handshakes(RelayStats stats) =>
    [
        new(stats.ClientsAccepted, new KeyValuePair<string, object?>("outcome", "accepted")),
        new(stats.HandshakesRefused, new KeyValuePair<string, object?>("outcome", "refused")),
        new(stats.HandshakesFailed, new KeyValuePair<string, object?>("outcome", "failed")),
    ];

    public void Dispose() => _meter.Dispose();
}
