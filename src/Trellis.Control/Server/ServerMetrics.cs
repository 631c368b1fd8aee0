using System.Diagnostics.Metrics;
using Trellis.Control.Mesh;
using Trellis.Control.NodeProtocol;
using Trellis.Core.Metrics;

namespace Trellis.Control.Server;

/// <summary>
/// The control server's instruments. Gauges and totals read state the server already keeps (the live
/// mesh, <see cref="ConnectionCounters"/>) when a scrape asks; only the two histograms are recorded as
/// things happen. Labels are bounded: a kind, an outcome, a reason or a route template, never a node.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    private readonly Meter _meter = new(MeterNames.Server);
    private readonly Histogram<double> _policyCompile;
    private readonly Histogram<double> _requests;

    public ServerMetrics(MeshState mesh, ConnectionCounters connections)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(connections);
        _meter.CreateObservableGauge("nodes", () => mesh.NodeCount, "{node}", "Active nodes (approved, not expired), online or not.");
        _meter.CreateObservableGauge("nodes_online", () => mesh.SessionCount, "{node}", "Nodes streaming their map now.");
        _meter.CreateObservableGauge("control_connections", () => connections.Open, "{connection}", "Node control connections open.");
        _meter.CreateObservableCounter("map_messages_total", () => MapMessages(connections.MapSent), "{message}", "Map stream messages sent, by kind.");
        _meter.CreateObservableCounter("map_sent_bytes_total", () => MapBytes(connections.MapSent), "By", "Map stream bytes sent (sealed), by kind.");
        _meter.CreateObservableCounter("registrations_total", () => Registrations(connections.Registrations), "{registration}", "Registration answers, by outcome.");
        _meter.CreateObservableCounter("control_connections_closed_total", () => Closed(connections), "{connection}", "Node connections refused or closed by a limit, by reason.");
        _policyCompile = _meter.CreateHistogram<double>("policy_compile_seconds", "s", "Time to compile an access policy and run its tests (refused ones included).");
        _requests = _meter.CreateHistogram<double>("request_duration_seconds", "s", "HTTP request latency by route template (WebSocket, relay and console event streams not included).");
    }

    public void PolicyCompiled(TimeSpan elapsed) => _policyCompile.Record(elapsed.TotalSeconds);

    /// <param name="route">A route template (bounded), or "unmatched".</param>
    public void RequestServed(string route, TimeSpan elapsed) =>
        _requests.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("route", route));

    private static Measurement<long>[] MapMessages(MapTraffic sent) =>
    [
        new(sent.FullMaps, Kind("full_map")),
        new(sent.Resumes, Kind("resume")),
        new(sent.Deltas, Kind("delta")),
        new(sent.Keepalives, Kind("keepalive")),
    ];

    private static Measurement<long>[] MapBytes(MapTraffic sent) =>
    [
        new(sent.FullMapBytes, Kind("full_map")),
        new(sent.ResumeBytes, Kind("resume")),
        new(sent.DeltaBytes, Kind("delta")),
        new(sent.KeepaliveBytes, Kind("keepalive")),
    ];

    private static Measurement<long>[] Registrations((long Active, long Pending, long Rejected) answers) =>
    [
        new(answers.Active, Outcome("active")),
        new(answers.Pending, Outcome("pending")),
        new(answers.Rejected, Outcome("rejected")),
    ];

    private static Measurement<long>[] Closed(ConnectionCounters connections) =>
    [
        new(connections.RefusedTotalLimit, Reason("server_full")),
        new(connections.RefusedNetworkLimit, Reason("address_full")),
        new(connections.HandshakeTimeouts, Reason("handshake_timeout")),
        new(connections.IdleClosed, Reason("idle")),
        new(connections.OversizedMessages, Reason("oversized_message")),
    ];

    private static KeyValuePair<string, object?> Kind(string kind) => new("kind", kind);

    private static KeyValuePair<string, object?> Outcome(string outcome) => new("outcome", outcome);

    private static KeyValuePair<string, object?> Reason(string reason) => new("reason", reason);

    public void Dispose() => _meter.Dispose();
}
