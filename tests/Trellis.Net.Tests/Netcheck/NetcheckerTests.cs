using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Trellis.Core.Control;
using Trellis.Net.Netcheck;
using Trellis.Net.Stun;

namespace Trellis.Net.Tests.Netcheck;

public sealed class NetcheckerTests : IAsyncDisposable
{
    // Only for a test that fails anyway: a run on the manual clock has nothing left to wait for in real time.
    private static readonly TimeSpan SafetyNet = TimeSpan.FromSeconds(60);

    private readonly StunServer _a = new(new StunServerOptions { Port = 0 });
    private readonly StunServer _b = new(new StunServerOptions { Port = 0 });

    // Bound and never read: a server that does not answer, without ICMP errors to give it away.
    private readonly Socket _silent = BindSilent();

    // Where every server answers: a budget no scheduling stall reaches, so each probe is one request
    // and a slow answer is never counted twice or missed.
    private static NetcheckOptions Patient => new() { Timeout = TimeSpan.FromSeconds(60), InitialRto = TimeSpan.FromSeconds(60), ProbePortMapping = false };

    // Where a server is silent: its deadline passes on a clock the test moves, never on the machine's.
    private static NetcheckOptions Quick => new() { Timeout = TimeSpan.FromMilliseconds(800), InitialRto = TimeSpan.FromMilliseconds(200), ProbePortMapping = false };

    public async ValueTask DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        _silent.Dispose();
    }

    [Fact]
    public async Task Without_NAT_both_families_work_and_the_mapping_does_not_vary()
    {
        await _a.StartAsync();
        await _b.StartAsync();
        var map = Map(Region(901, "a", Node("a", "127.0.0.1", "::1", _a.Port)), Region(902, "b", Node("b", "127.0.0.1", "::1", _b.Port)));

        var report = await new Netchecker(Patient).RunAsync(map);

        Assert.True(report.UdpV4);
        Assert.True(report.UdpV6);
        Assert.StartsWith("127.0.0.1:", report.GlobalV4, StringComparison.Ordinal);
        Assert.StartsWith("[::1]:", report.GlobalV6, StringComparison.Ordinal);
        Assert.False(report.MappingVariesByDestination);
        Assert.False(report.MappingVariesByDestinationV6);
        Assert.Equal([901, 902], report.Regions.Select(r => r.RegionId));
        Assert.All(report.Regions, r => Assert.NotNull(r.LatencyV4Ms));
        Assert.All(report.Regions, r => Assert.NotNull(r.LatencyV6Ms));
        Assert.Contains(report.PreferredRegion, new int?[] { 901, 902 });
        Assert.Equal(3 * 4, _a.Requests + _b.Requests); // three latency probes per server address
    }

    [Fact]
    public async Task A_silent_region_has_no_latency_and_one_server_leaves_the_mapping_unknown()
    {
        await _a.StartAsync();
        var silentPort = ((IPEndPoint)_silent.LocalEndPoint!).Port;
        var map = Map(Region(900, "silent", Node("s", "127.0.0.1", null, silentPort)), Region(901, "a", Node("a", "127.0.0.1", null, _a.Port)));
        var clock = new ManualClock();
        var options = Quick with { TimeProvider = clock };

        var run = new Netchecker(options).RunAsync(map);
        // Probes to one server go one after another, so its third request means two answers are in.
        await WaitUntilAsync(() => _a.Requests == options.LatencyProbes, "the answering server's last probe");
        clock.Advance(options.Timeout);
        var report = await run.WaitAsync(SafetyNet);

        Assert.True(report.UdpV4);
        Assert.False(report.UdpV6);
        Assert.Null(report.GlobalV6);
        Assert.Null(report.MappingVariesByDestination);
        Assert.Null(report.MappingVariesByDestinationV6);
        Assert.Null(report.Regions[0].LatencyMs);
        Assert.NotNull(report.Regions[1].LatencyMs);
        Assert.Equal(901, report.PreferredRegion);
    }

    [Fact]
    public async Task With_every_server_silent_and_the_gateway_mute_it_finishes_within_three_seconds()
    {
        using var muteGateway = BindSilent();
        var mutePort = ((IPEndPoint)muteGateway.LocalEndPoint!).Port;
        var silentPort = ((IPEndPoint)_silent.LocalEndPoint!).Port;
        var map = Map(Region(900, "x", Node("x1", "127.0.0.1", null, silentPort), Node("x2", "127.0.0.2", null, silentPort)));
        var clock = new ManualClock();
        var options = new NetcheckOptions { Gateway = IPAddress.Loopback, NatPmpPort = mutePort, SsdpEndpoint = new IPEndPoint(IPAddress.Loopback, mutePort), TimeProvider = clock };
        var almostDone = options.Timeout - TimeSpan.FromMilliseconds(100);

        // Its own clock, not the machine's, is what bounds the run: whatever a busy machine does meanwhile.
        var run = new Netchecker(options).RunAsync(map);
        clock.Advance(almostDone);
        Assert.False(run.IsCompleted, "finished before its timeout, with every server still silent");
        clock.Advance(TimeSpan.FromSeconds(3) - almostDone);
        var report = await run.WaitAsync(SafetyNet);

        Assert.False(report.UdpV4);
        Assert.Null(report.PreferredRegion);
        Assert.Equal("127.0.0.1", report.Gateway);
        Assert.False(report.NatPmp || report.Pcp || report.Upnp);
    }

    [Fact]
    public async Task Nodes_without_a_STUN_port_or_address_are_skipped_and_names_are_resolved()
    {
        await _a.StartAsync();
        var map = Map(Region(
            905,
            "mixed",
            Node("off", "127.0.0.1", null, -1),
            new RelayNode { Name = "named", Host = "localhost", StunPort = _a.Port },
            new RelayNode { Name = "nowhere", Host = "does-not-resolve.invalid", StunPort = _a.Port }));

        var report = await new Netchecker(Patient).RunAsync(map);

        Assert.True(report.UdpV4 || report.UdpV6);
        Assert.NotNull(report.Regions[0].LatencyMs);
        Assert.Equal(905, report.PreferredRegion);
    }

    [Fact]
    public async Task The_report_round_trips_through_its_JSON_in_camel_case()
    {
        await _a.StartAsync();
        var report = await new Netchecker(Patient).RunAsync(Map(Region(901, "a", Node("a", "127.0.0.1", null, _a.Port))));

        var json = JsonSerializer.Serialize(report, NetcheckJsonContext.Default.NetcheckReport);
        var back = JsonSerializer.Deserialize(json, NetcheckJsonContext.Default.NetcheckReport)!;

        Assert.Contains("\"udpV4\": true", json, StringComparison.Ordinal);
        Assert.Contains("\"mappingVariesByDestination\": null", json, StringComparison.Ordinal);
        Assert.Equal(report.GlobalV4, back.GlobalV4);
        Assert.Equal(report.Regions, back.Regions);
        Assert.Equal(report with { Regions = back.Regions }, back);
    }

    /// <summary>Polls a server's counter (it has no event), with a deadline only a failing test reaches.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + SafetyNet;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    private static Socket BindSilent()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static RelayMap Map(params RelayRegion[] regions) => new() { Regions = regions };

    private static RelayRegion Region(int id, string code, params RelayNode[] nodes) => new() { Id = id, Code = code, Nodes = nodes };

    private static RelayNode Node(string name, string? ipv4, string? ipv6, int stunPort) =>
        new() { Name = name, Host = name + ".example.com", IPv4 = ipv4, IPv6 = ipv6, StunPort = stunPort };
}
