using System.Net;
using System.Net.Sockets;
using Trellis.Net.PortMapping;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.PortMapping;

/// <summary>The UPnP IGD client against miniupnpd on a hard-NAT lab router: SSDP, description, SOAP, and a working hole.</summary>
public sealed class UpnpLabTests(ITestOutputHelper output)
{
    private const int InternalPort = 41642;

    [Fact]
    public async Task A_UPnP_mapping_lets_a_public_host_reach_the_inside_port()
    {
        await using var lab = await MappedHole.CreateLabAsync("miniupnpd");
        var router = await lab.AddRouterAsync(NatKind.Hard, new NatRouterOptions { PortMapping = true });
        var inside = await router.AddHostAsync();
        var outside = await lab.AddPublicHostAsync();
        var upnp = new UpnpClient(router.Lan.GatewayIPv4!.Address);
        using var listener = InNamespace.Run(inside.Namespace, () => MappedHole.Bound(InternalPort));

        var mapping = await InNamespace.Run(inside.Namespace, () => upnp.MapUdpAsync(InternalPort, PortMapper.DefaultLifetime));
        output.WriteLine($"{mapping} ({upnp.LastError})\n{router.MiniUpnpd!.Output}");

        Assert.NotNull(mapping);
        Assert.Equal(PortMappingProtocol.Upnp, mapping.Protocol);
        Assert.Equal(router.PublicIPv4, mapping.External.Address);
        Assert.Equal(InternalPort, mapping.External.Port);
        Assert.Equal(InternalPort, mapping.InternalPort);

        using var sender = InNamespace.Run(outside.Namespace, () => MappedHole.Bound(0));
        var received = await MappedHole.ReceiveWhileSendingAsync(listener, sender, mapping.External, "hello through UPnP");
        Assert.Equal("hello through UPnP", received.Text);
        Assert.Equal(outside.IPv4!.Address, received.From.Address);

        // Renewal re-adds the same entry (an update, not a conflict) and keeps the port.
        var renewed = await InNamespace.Run(inside.Namespace, () => upnp.RenewAsync(mapping));
        Assert.True(renewed is not null, upnp.LastError);
        Assert.Equal(mapping.External, renewed.External);

        Assert.True(await InNamespace.Run(inside.Namespace, () => upnp.DeleteAsync(mapping)), upnp.LastError);
    }
}
