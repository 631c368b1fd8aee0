using System.Text.Json;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Engine;

/// <summary>A real engine with a real TUN, rtnetlink, sysctls and nft, in a private network namespace (root).</summary>
public sealed class LinuxEngineTests : IDisposable
{
    private const string Tun = "trellis0";
    private const string Table = "trellis_trellis0";

    private readonly PrivateNamespace _ns = new();
    private readonly Key _key = TestMaps.NewPrivateKey();

    public void Dispose() => _ns.Dispose();

    private WireGuardEngine Start() =>
        _ns.Run(() => new WireGuardEngine(new EngineOptions { PrivateKey = _key, ListenPort = 0 }, new LinuxNetworkConfig()));

    private void Apply(WireGuardEngine engine, NetMap map, EngineSettings? settings = null) =>
        _ns.RunAsync(() => engine.ApplyAsync(map, settings ?? new EngineSettings(), CancellationToken.None));

    private void Stop(WireGuardEngine engine) => _ns.RunAsync(() => engine.DisposeAsync().AsTask());

    private List<string> Routes(string family) =>
        [.. _ns.IpJson(family, "route", "show", "dev", Tun).EnumerateArray().Select(r => r.GetProperty("dst").GetString()!)];

    private string Sysctl(string path) => _ns.Run(() => File.ReadAllText("/proc/sys/" + path).Trim());

    [Fact]
    public void The_tun_gets_mtu_addresses_and_routes_and_dispose_leaves_nothing_behind()
    {
        var engine = Start();
        var peer = TestMaps.Peer(2, TestMaps.NewPrivateKey(), routes: ["10.7.0.0/16"]);
        var map = TestMaps.Map(TestMaps.Peer(1, _key), peer);
        try
        {
            Apply(engine, map);

            var link = Assert.Single(_ns.IpJson("link", "show", Tun).EnumerateArray());
            Assert.Equal(EngineOptions.DefaultMtu, link.GetProperty("mtu").GetInt32());
            Assert.Contains("UP", link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
            var addresses = _ns.IpJson("addr", "show", "dev", Tun).EnumerateArray()
                .SelectMany(l => l.GetProperty("addr_info").EnumerateArray())
                .Where(a => a.GetProperty("scope").GetString() == "global") // not the kernel's own fe80:: one
                .Select(a => $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}");
            Assert.Equal(["100.64.0.1/32", "fd7a:115c:a1e0::1/128"], addresses.Order(StringComparer.Ordinal));
            Assert.Equal([TestMaps.OverlayV4], Routes("-4"));
            Assert.Contains(TestMaps.OverlayV6, Routes("-6"));

            Apply(engine, map, new EngineSettings { AcceptRoutes = true });
            Assert.Equal(["10.7.0.0/16", TestMaps.OverlayV4], Routes("-4").Order(StringComparer.Ordinal));

            Apply(engine, map);
            Assert.Equal([TestMaps.OverlayV4], Routes("-4"));
        }
        finally
        {
            Stop(engine);
        }

        Assert.Equal(1, _ns.TryExec("ip", "link", "show", Tun).ExitCode);
        Assert.DoesNotContain(_ns.IpJson("-4", "route", "show").EnumerateArray(), r => r.GetProperty("dst").GetString() == TestMaps.OverlayV4);
        Assert.DoesNotContain(_ns.IpJson("-6", "route", "show").EnumerateArray(), r => r.GetProperty("dst").GetString() == TestMaps.OverlayV6);
    }

    [Fact]
    public void An_approved_route_forwards_and_masquerades_until_withdrawn_and_dispose_restores_everything()
    {
        Assert.Equal("0", Sysctl("net/ipv4/ip_forward"));
        var settings = new EngineSettings { AdvertisedRoutes = ["192.168.77.0/24"] };
        var approved = TestMaps.Map(TestMaps.Peer(1, _key, routes: ["192.168.77.0/24"]));
        var engine = Start();
        try
        {
            Apply(engine, approved, settings);
            Assert.Equal("1", Sysctl("net/ipv4/ip_forward"));
            Assert.Equal("0", Sysctl("net/ipv6/conf/all/forwarding"));
            var rule = MasqueradeRules().Single();
            Assert.Contains("100.64.0.0", rule, StringComparison.Ordinal);
            Assert.Contains("192.168.77.0", rule, StringComparison.Ordinal);

            Apply(engine, TestMaps.Map(TestMaps.Peer(1, _key)), settings);
            Assert.Equal("0", Sysctl("net/ipv4/ip_forward"));
            Assert.DoesNotContain(Table, _ns.Exec("nft", "list", "tables"), StringComparison.Ordinal);

            Apply(engine, approved, settings);
            Assert.Single(MasqueradeRules());
        }
        finally
        {
            Stop(engine);
        }

        Assert.Equal("0", Sysctl("net/ipv4/ip_forward"));
        Assert.DoesNotContain(Table, _ns.Exec("nft", "list", "tables"), StringComparison.Ordinal);
    }

    /// <summary>The rules of our table, each as the JSON of its expressions.</summary>
    private List<string> MasqueradeRules()
    {
        using var json = JsonDocument.Parse(_ns.Exec("nft", "-j", "list", "table", "inet", Table));
        return [.. json.RootElement.GetProperty("nftables").EnumerateArray()
            .Where(e => e.TryGetProperty("rule", out _))
            .Select(e => e.GetProperty("rule").GetProperty("expr").GetRawText())
            .Where(expr => expr.Contains("masquerade", StringComparison.Ordinal))];
    }
}
