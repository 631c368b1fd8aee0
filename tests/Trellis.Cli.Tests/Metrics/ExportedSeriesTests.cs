using Trellis.Cli.Metrics;
using Trellis.Control.Mesh;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Server;
using Trellis.Core.Control;
using Trellis.Crypto;
using Trellis.Relay.Server;

namespace Trellis.Cli.Tests.Metrics;

/// <summary>
/// The series a scrape of the server and of a relay holds, by the names and labels docs/ARCHITECTURE.md
/// lists. Values are not compared: other tests in this process run servers and relays of their own.
/// </summary>
public sealed class ExportedSeriesTests
{
    [Fact]
    public async Task A_relay_exports_clients_forwarded_traffic_and_drops_by_reason()
    {
        await using var relay = new RelayServer(new RelayServerOptions { PrivateKey = X25519.GeneratePrivateKey(), Admission = AllowAllAdmissionForTesting.Instance });
        using var exporter = new MetricsExporter();
        var text = await exporter.ScrapeAsync();

        Assert.Contains("\ntrellis_relay_clients ", text, StringComparison.Ordinal);
        Assert.Contains("\ntrellis_relay_forwarded_bytes_total ", text, StringComparison.Ordinal);
        Assert.Contains("\ntrellis_relay_forwarded_packets_total ", text, StringComparison.Ordinal);
        Assert.Contains("\ntrellis_relay_dropped_packets_total{reason=\"queue_full\"} ", text, StringComparison.Ordinal);
        Assert.Contains("\ntrellis_relay_dropped_packets_total{reason=\"unknown_destination\"} ", text, StringComparison.Ordinal);
        Assert.Contains("\ntrellis_relay_handshakes_total{outcome=\"refused\"} ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_exports_nodes_connections_map_traffic_registrations_and_policy_compile_time()
    {
        var mesh = new MeshState(() => new RelayMap(), ["100.64.0.0/10"]);
        using var metrics = new ServerMetrics(mesh, new ConnectionCounters());
        using var exporter = new MetricsExporter();
        metrics.PolicyCompiled(TimeSpan.FromMilliseconds(3));
        metrics.RequestServed("/key", TimeSpan.FromMilliseconds(1));
        var text = await exporter.ScrapeAsync();

        Assert.Contains("\ntrellis_server_nodes ", text, StringComparison.Ordinal);
        Assert.Contains("\ntrellis_server_nodes_online ", text, StringComparison.Ordinal);
        Assert.Contains("\ntrellis_server_control_connections ", text, StringComparison.Ordinal);
        Assert.Contains("\ntrellis_server_map_messages_total{kind=\"delta\"} ", text, StringComparison.Ordinal);
        Assert.Contains("\ntrellis_server_map_sent_bytes_total{kind=\"full_map\"} ", text, StringComparison.Ordinal);
        Assert.Contains("\ntrellis_server_registrations_total{outcome=\"rejected\"} ", text, StringComparison.Ordinal);
        Assert.Contains("\ntrellis_server_policy_compile_seconds_count ", text, StringComparison.Ordinal);
        Assert.Contains("\ntrellis_server_request_duration_seconds_count{route=\"/key\"} ", text, StringComparison.Ordinal);
    }
}
