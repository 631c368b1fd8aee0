using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Issue 15 (metrics): Debian's Prometheus scrapes the control server, a standalone relay and a node,
/// each on its opt-in metrics listener, and PromQL through its HTTP API sees what a user would check:
/// both nodes, traffic the relay forwarded, and the node's peer on the relay path. The nodes sit behind
/// hard NATs without port guessing, so their only path is the relay. Prometheus runs in that node's
/// namespace, where it reaches the public hosts through the NAT and the node's listener on loopback.
/// </summary>
public sealed class MetricsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Prometheus_scrapes_the_server_the_relay_and_a_node_and_sees_the_nodes_and_the_relayed_traffic()
    {
        LabRequirements.EnsureAvailable(["prometheus", "curl"]);
        // Each listener is in a namespace of its own, but ports are drawn at random as every lab test's are.
        var ports = Enumerable.Range(20000, 20000).OrderBy(_ => Random.Shared.Next()).Take(4).ToArray();
        var (serverPort, relayPort, nodePort, prometheusPort) = (ports[0], ports[1], ports[2], ports[3]);
        await using var mesh = await MeshLab.StartAsync(
            output, relayRegions: 1, serverConfig: _ => $"metrics-listen: 0.0.0.0:{Port(serverPort)}\n", relayArguments: ["--metrics-listen", $"0.0.0.0:{Port(relayPort)}"]);
        var left = await mesh.AddNodeAsync("left", await mesh.Lab.AddRouterAsync(NatKind.Hard));
        var right = await mesh.AddNodeAsync("right", await mesh.Lab.AddRouterAsync(NatKind.Hard));
        await left.UpAsync("--no-port-guessing", "--metrics-listen", $"127.0.0.1:{Port(nodePort)}");
        await right.UpAsync("--no-port-guessing");
        var rightAddress = (await right.AddressesAsync())[0];
        await Poll.UntilAsync(_ => left.PingAsync(rightAddress), Patience, "left to ping right over the relay");
        Assert.Equal("relay", await left.PathAsync("right"));

        var directory = Directory.CreateTempSubdirectory("trellis-prometheus-").FullName;
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: server
                static_configs:
                  - targets: ['{mesh.ServerHost.IPv4!.Address}:{Port(serverPort)}']
              - job_name: relay
                static_configs:
                  - targets: ['{mesh.RelayRegions!.Hosts[0].IPv4!.Address}:{Port(relayPort)}']
              - job_name: node
                static_configs:
                  - targets: ['127.0.0.1:{Port(nodePort)}']
            """);
        var prometheus = left.Host.Namespace.StartProcess(
            "prometheus",
            [$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory, "data")}", $"--web.listen-address=127.0.0.1:{Port(prometheusPort)}"]);
        try
        {
            var api = $"http://127.0.0.1:{Port(prometheusPort)}/api/v1";
            await Poll.UntilAsync(
                async _ => await GetAsync(left, $"{api}/targets") is { } targets && AllUp(targets, 3),
                Patience,
                "Prometheus to scrape the server, the relay and the node");

            await Poll.UntilAsync(async _ => await QueryAsync(left, api, "trellis_server_nodes{job=\"server\"}") == 2, Patience, "the server's node count to be 2");
            await Poll.UntilAsync(async _ => await QueryAsync(left, api, "trellis_relay_forwarded_bytes_total{job=\"relay\"}") > 0, Patience, "the relay's forwarded bytes to be above 0");
            await Poll.UntilAsync(async _ => await QueryAsync(left, api, "trellis_node_peers{job=\"node\",path=\"relay\"}") == 1, Patience, "the node's peers on the relay path to be 1");
            Assert.True(await QueryAsync(left, api, "trellis_node_sent_bytes_total{job=\"node\"}") > 0);
            Assert.Null(prometheus.ExitCode);
        }
        finally
        {
            await prometheus.StopAsync();
            output.WriteLine($"--- prometheus (exit {prometheus.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"}) ---\n{prometheus.Output.TrimEnd()}");
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The body of an HTTP GET made inside the node's namespace, or null while it fails.</summary>
    private static async Task<JsonElement?> GetAsync(LabNode node, string url, params string[] curlArguments)
    {
        var result = await node.Host.Namespace.ExecAsync("curl", ["-sf", "--max-time", "5", .. curlArguments, url], CommandOptions.Default);
        return result.Succeeded ? JsonDocument.Parse(result.StandardOutput).RootElement.Clone() : null;
    }

    private static bool AllUp(JsonElement targets, int expected)
    {
        var active = targets.GetProperty("data").GetProperty("activeTargets").EnumerateArray().ToList();
        return active.Count == expected && active.All(t => t.GetProperty("health").GetString() == "up");
    }

    /// <summary>The single value an instant PromQL query returns, or null while it returns none.</summary>
    private static async Task<double?> QueryAsync(LabNode node, string api, string query)
    {
        if (await GetAsync(node, $"{api}/query", "-G", "--data-urlencode", $"query={query}") is not { } answer)
        {
            return null;
        }

        var result = answer.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 1 ? double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture) : null;
    }
}
