using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Trellis.Core.Control;
using Trellis.Net.Netcheck;
using Trellis.Net.Stun;

namespace Trellis.Cli.Tests;

/// <summary>`trellis netcheck` in-process: usage errors, unreadable sources, and runs against a loopback STUN server.</summary>
public sealed class NetcheckVerbTests : IAsyncLifetime, IDisposable
{
    private readonly StunServer _stun = new(new StunServerOptions { Port = 0 });
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-netcheck-").FullName;

    public Task InitializeAsync() => _stun.StartAsync();

    public async Task DisposeAsync() => await _stun.DisposeAsync();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Without_anything_to_measure_against_it_is_a_usage_error()
    {
        var error = Expect(await RunAsync("netcheck"), CommandLine.UsageError);
        Assert.Contains("--relay-map", error, StringComparison.Ordinal);
        Assert.Contains("--stun", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("")]
    [InlineData(":3478")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData("host:x")]
    [InlineData("[::1")]
    [InlineData("[::1]x")]
    [InlineData("[::1]:")]
    [InlineData("[stun.example.com]:3478")]
    public async Task A_bad_STUN_server_is_a_usage_error_naming_it(string server)
    {
        var error = Expect(await RunAsync("netcheck", "--stun", server), CommandLine.UsageError);
        Assert.Contains($"'{server}'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_relay_map_and_a_server_together_are_a_usage_error()
    {
        Expect(await RunAsync("netcheck", "--relay-map", "map.json", "--server", "http://127.0.0.1:1"), CommandLine.UsageError);
        Expect(await RunAsync("netcheck", "--server", "ftp://example.com"), CommandLine.UsageError);
    }

    [Fact]
    public async Task An_unreadable_or_wrong_relay_map_is_a_failure()
    {
        var missing = Path.Combine(_directory, "missing.json");
        Assert.Contains("cannot read", Expect(await RunAsync("netcheck", "--relay-map", missing), CommandLine.Failure), StringComparison.Ordinal);

        var wrong = Path.Combine(_directory, "wrong.json");
        await File.WriteAllTextAsync(wrong, "{\"regions\": 7}");
        Assert.Contains("not a relay map", Expect(await RunAsync("netcheck", "--relay-map", wrong), CommandLine.Failure), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_a_failure()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var error = Expect(await RunAsync("netcheck", "--server", $"http://127.0.0.1:{port}"), CommandLine.Failure);
        Assert.Contains("/relay-map", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_ad_hoc_server_gives_a_JSON_report_with_this_hosts_loopback_address()
    {
        var (code, output, error) = await RunAsync("netcheck", "--stun", $"127.0.0.1:{_stun.Port}", "--json");

        Assert.True(code == 0, error);
        var report = JsonSerializer.Deserialize(output, NetcheckJsonContext.Default.NetcheckReport)!;
        Assert.True(report.UdpV4);
        Assert.StartsWith("127.0.0.1:", report.GlobalV4, StringComparison.Ordinal);
        Assert.Null(report.MappingVariesByDestination);
        Assert.Equal(900, report.PreferredRegion);
        var region = Assert.Single(report.Regions);
        Assert.Equal($"127.0.0.1:{_stun.Port}", region.Code);
        Assert.NotNull(region.LatencyV4Ms);
        Assert.True(_stun.Requests >= 1);
    }

    [Fact]
    public async Task A_relay_map_file_and_ad_hoc_servers_are_measured_together_as_a_table()
    {
        var map = new RelayMap
        {
            Regions =
            [
                new RelayRegion { Id = 900, Code = "home", Nodes = [new RelayNode { Name = "h1", Host = "relay.invalid", IPv4 = "127.0.0.1", StunPort = _stun.Port }] },
            ],
        };
        var file = Path.Combine(_directory, "map.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(map, ControlJsonContext.Default.RelayMap));

        var (code, output, error) = await RunAsync("netcheck", "--relay-map", file, "--stun", $"[::1]:{_stun.Port}");

        Assert.True(code == 0, error);
        Assert.Contains("UDP over IPv4:    yes", output, StringComparison.Ordinal);
        Assert.Contains("IPv4 address:     127.0.0.1:", output, StringComparison.Ordinal);
        Assert.Contains("Mapping varies:   unknown", output, StringComparison.Ordinal);
        var rows = output.Split('\n').SkipWhile(l => !l.StartsWith("REGION", StringComparison.Ordinal)).Where(l => l.Length > 0).ToList();
        Assert.Equal(3, rows.Count);
        Assert.StartsWith("900     home", rows[1], StringComparison.Ordinal);
        Assert.StartsWith($"901     [::1]:{_stun.Port}", rows[2], StringComparison.Ordinal); // 900 is taken, so the next one
    }

    [Fact]
    public async Task The_relay_map_can_come_from_a_server()
    {
        var map = new RelayMap { Regions = [new RelayRegion { Id = 910, Code = "srv", Nodes = [new RelayNode { Name = "n", Host = "127.0.0.1", StunPort = _stun.Port }] }] };
        using var http = new HttpListener();
        var port = FreeTcpPort();
        http.Prefixes.Add($"http://127.0.0.1:{port}/base/");
        http.Start();
        var serving = Task.Run(async () =>
        {
            var context = await http.GetContextAsync();
            var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(map, ControlJsonContext.Default.RelayMap));
            context.Response.StatusCode = context.Request.Url!.AbsolutePath == "/base/relay-map" ? 200 : 404;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        });

        var (code, output, error) = await RunAsync("netcheck", "--server", $"http://127.0.0.1:{port}/base", "--json");

        await serving;
        Assert.True(code == 0, error);
        var report = JsonSerializer.Deserialize(output, NetcheckJsonContext.Default.NetcheckReport)!;
        Assert.Equal(910, report.PreferredRegion);
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();

        // Off the test's synchronization context: CommandLine.Run blocks on the async verb.
        var code = await Task.Run(() => CommandLine.Run(args, output, error));
        return (code, output.ToString(), error.ToString());
    }

    private static string Expect((int Code, string Output, string Error) result, int code)
    {
        Assert.True(result.Code == code, $"expected exit {code}, got {result.Code}: {result.Error}");
        Assert.Empty(result.Output);
        Assert.StartsWith("trellis netcheck: ", result.Error, StringComparison.Ordinal);
        return result.Error;
    }
}
