using System.Net;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Netcheck;

/// <summary>`trellis netcheck` behind each kind of lab router, against two STUN servers at two public addresses.</summary>
public sealed class NetcheckNatTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_public_host_sees_its_own_addresses_in_both_families()
    {
        await using var stun = await StunLab.StartAsync(output);
        var host = await stun.Lab.AddPublicHostAsync();

        var report = await stun.NetcheckAsync(host, stun.StunArguments(ipv4: true, ipv6: true));

        Assert.True(report.UdpV4);
        Assert.True(report.UdpV6);
        Assert.Equal(host.IPv4!.Address, StunLab.AddressOf(report.GlobalV4));
        Assert.Equal(host.IPv6!.Address, StunLab.AddressOf(report.GlobalV6));
        Assert.False(report.MappingVariesByDestination);
        Assert.False(report.MappingVariesByDestinationV6);
        Assert.Equal(4, report.Regions.Count);
        Assert.All(report.Regions, r => Assert.NotNull(r.LatencyMs));
    }

    [Fact]
    public async Task Behind_an_easy_NAT_every_server_sees_the_routers_address_and_one_port()
    {
        await using var stun = await StunLab.StartAsync(output);
        var router = await stun.Lab.AddRouterAsync(NatKind.Easy);
        var host = await router.AddHostAsync();

        var report = await stun.NetcheckAsync(host, stun.StunArguments());

        Assert.True(report.UdpV4);
        Assert.False(report.UdpV6);
        Assert.Equal(router.PublicIPv4, StunLab.AddressOf(report.GlobalV4));
        Assert.NotEqual(host.IPv4!.Address, router.PublicIPv4);
        Assert.False(report.MappingVariesByDestination);
        Assert.Equal(router.Lan.GatewayIPv4!.Address.ToString(), report.Gateway);
        Assert.False(report.NatPmp || report.Pcp || report.Upnp);
    }

    [Fact]
    public async Task Behind_a_hard_NAT_each_server_sees_another_port()
    {
        await using var stun = await StunLab.StartAsync(output);
        var router = await stun.Lab.AddRouterAsync(NatKind.Hard);
        var host = await router.AddHostAsync();

        var report = await stun.NetcheckAsync(host, stun.StunArguments());

        Assert.True(report.UdpV4);
        Assert.Equal(router.PublicIPv4, StunLab.AddressOf(report.GlobalV4));
        Assert.True(report.MappingVariesByDestination);
    }

    [Fact]
    public async Task Behind_a_CGNAT_the_carriers_address_is_seen_and_the_mapping_holds()
    {
        await using var stun = await StunLab.StartAsync(output);
        var home = await stun.Lab.AddRouterAsync(NatKind.Cgnat);
        var host = await home.AddHostAsync();

        var report = await stun.NetcheckAsync(host, stun.StunArguments());

        Assert.NotNull(home.Upstream);
        Assert.True(IPNetwork.Parse("100.64.0.0/10").Contains(home.WanIPv4!.Address));
        Assert.Equal(home.Upstream.WanIPv4!.Address, home.PublicIPv4);
        Assert.Equal(home.PublicIPv4, StunLab.AddressOf(report.GlobalV4));
        Assert.False(report.MappingVariesByDestination);
    }

    [Fact]
    public async Task Behind_an_IPv6_firewall_there_is_no_IPv4_and_no_translation()
    {
        await using var stun = await StunLab.StartAsync(output);
        var router = await stun.Lab.AddRouterAsync(NatKind.IPv6Firewall);
        var host = await router.AddHostAsync();

        var report = await stun.NetcheckAsync(host, stun.StunArguments(ipv4: true, ipv6: true));

        Assert.Null(host.IPv4);
        Assert.False(report.UdpV4);
        Assert.True(report.UdpV6);
        Assert.Equal(host.IPv6!.Address, StunLab.AddressOf(report.GlobalV6));
        Assert.False(report.MappingVariesByDestinationV6);
        Assert.Null(report.MappingVariesByDestination);
    }
}
