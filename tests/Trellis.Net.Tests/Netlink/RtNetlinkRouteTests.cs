using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Trellis.Net.Netlink;

namespace Trellis.Net.Tests.Netlink;

public sealed class RtNetlinkRouteTests
{
    private const int ESRCH = 3;
    private const int EEXIST = 17;
    private const int ENODEV = 19;
    private const byte RTPROT_KERNEL = 2;
    private const byte RTPROT_STATIC = 4;
    private const byte RT_SCOPE_LINK = 253;

    [Fact]
    public void An_IPv4_route_without_gateway_goes_straight_out_of_the_interface()
    {
        using var ns = Routed(out var index);

        ns.Netlink.AddRoute("tnl0", IPNetwork.Parse("10.2.0.0/24"));

        var route = Assert.Single(ns.Netlink.ListRoutes("tnl0", family: AddressFamily.InterNetwork), r => r.Destination.ToString() == "10.2.0.0/24");
        Assert.Null(route.Gateway);
        Assert.Equal(index, route.InterfaceIndex);
        Assert.Equal(RouteTable.Main, route.Table);
        Assert.Equal(RTPROT_STATIC, route.Protocol);
        Assert.Equal(RT_SCOPE_LINK, route.Scope);
        var shown = Assert.Single(ns.IpJson("route", "show", "dev", "tnl0").RoutesTo("10.2.0.0/24"));
        Assert.Equal("static", shown.String("protocol"));
        Assert.Equal("link", shown.String("scope"));
        Assert.Null(shown.String("gateway"));

        ns.Netlink.DeleteRoute("tnl0", IPNetwork.Parse("10.2.0.0/24"));

        Assert.DoesNotContain(ns.Netlink.ListRoutes("tnl0"), r => r.Destination.ToString() == "10.2.0.0/24");
        Assert.Empty(ns.IpJson("route", "show", "dev", "tnl0").RoutesTo("10.2.0.0/24"));
    }

    [Fact]
    public void An_IPv6_route_without_gateway_goes_straight_out_of_the_interface()
    {
        using var ns = Routed(out var index);

        ns.Netlink.AddRoute("tnl0", IPNetwork.Parse("fd00:2::/64"));

        var route = Assert.Single(ns.Netlink.ListRoutes("tnl0", family: AddressFamily.InterNetworkV6), r => r.Destination.ToString() == "fd00:2::/64");
        Assert.Null(route.Gateway);
        Assert.Equal(index, route.InterfaceIndex);
        Assert.Equal(1024u, route.Metric); // IPv6's default metric for user routes
        Assert.Equal(RTPROT_STATIC, route.Protocol);
        var shown = Assert.Single(ns.IpJson("-6", "route", "show", "dev", "tnl0").RoutesTo("fd00:2::/64"));
        Assert.Equal("static", shown.String("protocol"));
        Assert.Equal(1024, shown.Number("metric"));

        ns.Netlink.DeleteRoute("tnl0", IPNetwork.Parse("fd00:2::/64"));

        Assert.DoesNotContain(ns.Netlink.ListRoutes("tnl0"), r => r.Destination.ToString() == "fd00:2::/64");
        Assert.Empty(ns.IpJson("-6", "route", "show", "dev", "tnl0").RoutesTo("fd00:2::/64"));
    }

    [Theory]
    [InlineData("10.2.0.0/24", "10.1.0.2", "10.1.0.3")]
    [InlineData("fd00:2::/64", "fd00:1::2", "fd00:1::3")]
    public void A_route_through_a_gateway_with_a_metric_is_added_replaced_and_deleted(string prefix, string gateway, string replacement)
    {
        using var ns = Routed(out _);
        var destination = IPNetwork.Parse(prefix);
        var family = destination.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? "-4" : "-6";

        ns.Netlink.AddRoute("tnl0", destination, IPAddress.Parse(gateway), metric: 50);

        var route = Assert.Single(ns.Netlink.ListRoutes("tnl0"), r => r.Destination == destination);
        Assert.Equal(IPAddress.Parse(gateway), route.Gateway);
        Assert.Equal(50u, route.Metric);
        var shown = Assert.Single(ns.IpJson(family, "route", "show", "dev", "tnl0").RoutesTo(prefix));
        Assert.Equal(gateway, shown.String("gateway"));
        Assert.Equal(50, shown.Number("metric"));

        ns.Netlink.ReplaceRoute("tnl0", destination, IPAddress.Parse(replacement), metric: 50);

        route = Assert.Single(ns.Netlink.ListRoutes("tnl0"), r => r.Destination == destination);
        Assert.Equal(IPAddress.Parse(replacement), route.Gateway);
        shown = Assert.Single(ns.IpJson(family, "route", "show", "dev", "tnl0").RoutesTo(prefix));
        Assert.Equal(replacement, shown.String("gateway"));

        ns.Netlink.DeleteRoute("tnl0", destination, IPAddress.Parse(replacement), metric: 50);

        Assert.DoesNotContain(ns.Netlink.ListRoutes("tnl0"), r => r.Destination == destination);
        Assert.Empty(ns.IpJson(family, "route", "show", "dev", "tnl0").RoutesTo(prefix));
    }

    [Fact]
    public void ReplaceRoute_adds_a_route_that_is_not_there()
    {
        using var ns = Routed(out _);

        ns.Netlink.ReplaceRoute("tnl0", IPNetwork.Parse("10.3.0.0/16"), IPAddress.Parse("10.1.0.2"));

        Assert.Single(ns.IpJson("route", "show", "dev", "tnl0").RoutesTo("10.3.0.0/16"));
    }

    [Theory]
    [InlineData(100u)]
    [InlineData(1000u)] // above 255: only RTA_TABLE can name it
    public void Routes_go_into_the_table_asked_for(uint table)
    {
        using var ns = Routed(out _);
        var name = table.ToString(CultureInfo.InvariantCulture);

        ns.Netlink.AddRoute("tnl0", IPNetwork.Parse("10.2.0.0/24"), IPAddress.Parse("10.1.0.2"), table: table);
        ns.Netlink.AddRoute("tnl0", IPNetwork.Parse("fd00:2::/64"), table: table);

        var listed = ns.Netlink.ListRoutes("tnl0", table);
        Assert.Equal(["10.2.0.0/24", "fd00:2::/64"], listed.Select(r => r.Destination.ToString()));
        Assert.All(listed, r => Assert.Equal(table, r.Table));
        Assert.DoesNotContain(ns.Netlink.ListRoutes("tnl0"), r => r.Destination.ToString() == "10.2.0.0/24");
        Assert.Contains(ns.Netlink.ListRoutes("tnl0", RouteTable.Unspecified), r => r.Destination.ToString() == "10.2.0.0/24" && r.Table == table);
        Assert.Single(ns.IpJson("route", "show", "table", name, "dev", "tnl0").RoutesTo("10.2.0.0/24"));
        Assert.Single(ns.IpJson("-6", "route", "show", "table", name, "dev", "tnl0").RoutesTo("fd00:2::/64"));
        Assert.Empty(ns.IpJson("route", "show", "dev", "tnl0").RoutesTo("10.2.0.0/24"));

        ns.Netlink.DeleteRoute("tnl0", IPNetwork.Parse("10.2.0.0/24"), table: table);
        ns.Netlink.DeleteRoute("tnl0", IPNetwork.Parse("fd00:2::/64"), table: table);

        Assert.Empty(ns.Netlink.ListRoutes("tnl0", table));
        Assert.Empty(ns.IpJson("route", "show", "table", name, "dev", "tnl0").RoutesTo("10.2.0.0/24"));
    }

    [Fact]
    public void Listing_a_table_that_was_never_used_gives_nothing()
    {
        using var ns = Routed(out _);

        Assert.Empty(ns.Netlink.ListRoutes("tnl0", 4242));
    }

    [Fact]
    public void Listing_includes_the_kernels_own_prefix_routes()
    {
        using var ns = Routed(out _);

        var listed = ns.Netlink.ListRoutes("tnl0");

        Assert.Contains(listed, r => r.Destination.ToString() == "10.1.0.0/24" && r.Protocol == RTPROT_KERNEL);
        Assert.Contains(listed, r => r.Destination.ToString() == "fd00:1::/64" && r.Protocol == RTPROT_KERNEL);
    }

    [Fact]
    public void Adding_a_route_twice_fails_with_EEXIST_and_deleting_a_missing_one_with_ESRCH()
    {
        using var ns = Routed(out _);
        ns.Netlink.AddRoute("tnl0", IPNetwork.Parse("10.2.0.0/24"), metric: 7, table: 1000);

        var twice = Assert.Throws<ErrnoException>(() => ns.Netlink.AddRoute("tnl0", IPNetwork.Parse("10.2.0.0/24"), metric: 7, table: 1000));
        var missing = Assert.Throws<ErrnoException>(() => ns.Netlink.DeleteRoute("tnl0", IPNetwork.Parse("10.9.0.0/24")));

        Assert.Equal(EEXIST, twice.Errno);
        Assert.StartsWith("add route 10.2.0.0/24 dev tnl0 metric 7 table 1000: File exists", twice.Message, StringComparison.Ordinal);
        Assert.Contains("ReplaceRoute", twice.Message, StringComparison.Ordinal);
        Assert.Equal(ESRCH, missing.Errno);
        Assert.StartsWith("delete route 10.9.0.0/24 dev tnl0:", missing.Message, StringComparison.Ordinal);
        Assert.Contains("no such route", missing.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.2.0.0/24", "192.168.77.1", 101, "Network is unreachable (errno 101); the gateway is not on-link: no route through the interface covers it (kernel: Nexthop has invalid gateway)")]
    [InlineData("fd00:2::/64", "fd00:77::1", 113, "No route to host (errno 113); the gateway is not on-link: no route through the interface covers it")]
    public void A_gateway_that_is_not_on_link_is_refused_with_the_reason(string prefix, string gateway, int errno, string reason)
    {
        using var ns = Routed(out _);

        var e = Assert.Throws<ErrnoException>(() => ns.Netlink.AddRoute("tnl0", IPNetwork.Parse(prefix), IPAddress.Parse(gateway)));

        // IPv4 adds the kernel's extended-ack text; IPv6 sends none for this error.
        Assert.Equal(errno, e.Errno);
        Assert.Equal($"add route {prefix} via {gateway} dev tnl0: {reason}", e.Message);
    }

    [Fact]
    public void Routes_through_a_missing_interface_fail_with_ENODEV_naming_it()
    {
        using var ns = new IsolatedNamespace();

        var add = Assert.Throws<ErrnoException>(() => ns.Netlink.AddRoute("nosuch0", IPNetwork.Parse("10.2.0.0/24")));
        var list = Assert.Throws<ErrnoException>(() => ns.Netlink.ListRoutes("nosuch0"));

        Assert.Equal(ENODEV, add.Errno);
        Assert.Equal("add route 10.2.0.0/24 dev nosuch0: No such device (errno 19); no interface of that name", add.Message);
        Assert.Equal(ENODEV, list.Errno);
        Assert.StartsWith("list routes of nosuch0 in table main: No such device", list.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mismatched_arguments_are_refused_before_reaching_the_kernel()
    {
        using var ns = Routed(out _);

        Assert.Throws<ArgumentException>(() => ns.Netlink.AddRoute("tnl0", IPNetwork.Parse("10.2.0.0/24"), IPAddress.Parse("fd00:1::2")));
        Assert.Throws<ArgumentOutOfRangeException>(() => ns.Netlink.AddRoute("tnl0", IPNetwork.Parse("10.2.0.0/24"), table: RouteTable.Unspecified));
    }

    [Fact]
    public void A_dump_of_a_thousand_routes_arrives_in_several_datagrams_and_is_read_whole()
    {
        const int PerFamily = 500;
        using var ns = Routed(out _);
        var v4 = Enumerable.Range(0, PerFamily).Select(i => IPNetwork.Parse($"10.{100 + (i / 256)}.{i % 256}.0/24")).ToList();
        var v6 = Enumerable.Range(0, PerFamily).Select(i => IPNetwork.Parse($"fd00:2:0:{i:x}::/64")).ToList();
        foreach (var prefix in v4.Concat(v6))
        {
            ns.Netlink.AddRoute("tnl0", prefix, metric: 10);
        }

        var before = ns.Netlink.DatagramsReceived;
        var listed = ns.Netlink.ListRoutes("tnl0");
        var datagrams = ns.Netlink.DatagramsReceived - before;

        var ours = listed.Where(r => r.Protocol == RTPROT_STATIC).Select(r => r.Destination).ToHashSet();
        Assert.Equal(v4.Concat(v6).ToHashSet(), ours);
        // Two for the interface lookup (reply, ack), one per family if each fitted in one: more means multipart.
        Assert.True(datagrams > 4, $"the dump came in {datagrams} datagrams; expected a multipart dump");
        Assert.Equal(PerFamily, ns.IpJson("-4", "route", "show", "dev", "tnl0", "proto", "static").GetArrayLength());
        Assert.Equal(PerFamily, ns.IpJson("-6", "route", "show", "dev", "tnl0", "proto", "static").GetArrayLength());

        foreach (var prefix in v4.Concat(v6))
        {
            ns.Netlink.DeleteRoute("tnl0", prefix);
        }

        Assert.DoesNotContain(ns.Netlink.ListRoutes("tnl0"), r => r.Protocol == RTPROT_STATIC);
        Assert.Equal(0, ns.IpJson("route", "show", "dev", "tnl0", "proto", "static").GetArrayLength());
    }

    [Fact]
    public async Task Concurrent_callers_share_one_client_safely()
    {
        using var ns = Routed(out _);
        const int Threads = 4;
        const int PerThread = 50;

        var workers = Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                ns.Netlink.AddRoute("tnl0", IPNetwork.Parse($"10.{50 + t}.{i}.0/24"));
                _ = ns.Netlink.ListAddresses("tnl0");
            }
        }));
        await Task.WhenAll(workers);

        Assert.Equal(Threads * PerThread, ns.Netlink.ListRoutes("tnl0", family: AddressFamily.InterNetwork).Count(r => r.Protocol == RTPROT_STATIC));
        Assert.Equal(Threads * PerThread, ns.IpJson("-4", "route", "show", "dev", "tnl0", "proto", "static").GetArrayLength());
    }

    /// <summary>A namespace with TUN tnl0 up, holding 10.1.0.1/24 and fd00:1::1/64 (so gateways in them are on-link).</summary>
    private static IsolatedNamespace Routed(out int index)
    {
        var ns = new IsolatedNamespace();
        try
        {
            ns.CreateTun("tnl0");
            ns.Netlink.AddAddress("tnl0", IPAddress.Parse("10.1.0.1"), 24);
            ns.Netlink.AddAddress("tnl0", IPAddress.Parse("fd00:1::1"), 64);
            index = ns.Netlink.GetLinkIndex("tnl0");
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }
}
