using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Trellis.Net.PortMapping;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.PortMapping;

/// <summary>The PortMapper against miniupnpd on a lab router: a mapping is an endpoint-independent hole even through a hard NAT.</summary>
public sealed class PortMappingLabTests(ITestOutputHelper output)
{
    private const int InternalPort = 41641;

    [Theory]
    [InlineData(NatKind.Hard)]
    [InlineData(NatKind.Easy)]
    public async Task A_mapping_lets_any_public_host_reach_the_inside_port(NatKind kind)
    {
        await using var lab = await MappedHole.CreateLabAsync("miniupnpd");
        var router = await lab.AddRouterAsync(kind, new NatRouterOptions { PortMapping = true });
        var inside = await router.AddHostAsync();
        var outside = await lab.AddPublicHostAsync();
        var mapper = new PortMapper(router.Lan.GatewayIPv4!.Address);
        using var listener = InNamespace.Run(inside.Namespace, () => MappedHole.Bound(InternalPort));

        var mapping = await InNamespace.Run(inside.Namespace, () => mapper.MapUdpAsync(InternalPort, PortMapper.DefaultLifetime));
        output.WriteLine($"{mapping} ({mapper.LastError})\n{router.MiniUpnpd!.Output}");

        Assert.NotNull(mapping);
        Assert.Equal(PortMappingProtocol.Pcp, mapping.Protocol);
        Assert.Equal(router.PublicIPv4, mapping.External.Address);
        Assert.Equal(InternalPort, mapping.InternalPort);
        Assert.Equal(PortMapper.DefaultLifetime, mapping.Lifetime);

        // Nothing went out from the inside port: the only way in is the mapping.
        using var sender = InNamespace.Run(outside.Namespace, () => MappedHole.Bound(0));
        var received = await MappedHole.ReceiveWhileSendingAsync(listener, sender, mapping.External, "hello through the mapping");
        Assert.Equal("hello through the mapping", received.Text);
        Assert.Equal(outside.IPv4!.Address, received.From.Address);

        Assert.True(await InNamespace.Run(inside.Namespace, () => mapper.DeleteAsync(mapping)), mapper.LastError);
    }

    [Fact]
    public async Task Without_a_port_mapping_service_the_mapper_gives_up_within_its_timeout()
    {
        await using var lab = await MappedHole.CreateLabAsync();
        var router = await lab.AddRouterAsync(NatKind.Hard);
        var inside = await router.AddHostAsync();
        var mapper = new PortMapper(router.Lan.GatewayIPv4!.Address) { Timeout = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();

        var mapping = await InNamespace.Run(inside.Namespace, () => mapper.MapUdpAsync(InternalPort, PortMapper.DefaultLifetime));

        output.WriteLine($"{clock.Elapsed}: {mapper.LastError}");
        Assert.Null(mapping);
        Assert.True(clock.Elapsed < 2 * mapper.Timeout + TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }
}
