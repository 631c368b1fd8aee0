using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Trellis.Net.PortMapping;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.PortMapping;

/// <summary>The PortMapper against miniupnpd on a lab router: a mapping is an endpoint-independent hole even through a hard NAT.</summary>
public sealed class PortMappingLabTests(ITestOutputHelper output)
{
    private const int InternalPort = 41641;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static readonly Lazy<Task> LeftoversDeleted = new(() => NetNamespace.DeleteLeftoversAsync());

    [Theory]
    [InlineData(NatKind.Hard)]
    [InlineData(NatKind.Easy)]
    public async Task A_mapping_lets_any_public_host_reach_the_inside_port(NatKind kind)
    {
        await using var lab = await CreateLabAsync("miniupnpd");
        var router = await lab.AddRouterAsync(kind, new NatRouterOptions { PortMapping = true });
        var inside = await router.AddHostAsync();
        var outside = await lab.AddPublicHostAsync();
        var mapper = new PortMapper(router.Lan.GatewayIPv4!.Address);
        using var listener = InNamespace.Run(inside.Namespace, () => Bound(InternalPort));

        var mapping = await InNamespace.Run(inside.Namespace, () => mapper.MapUdpAsync(InternalPort, PortMapper.DefaultLifetime));
        output.WriteLine($"{mapping} ({mapper.LastError})\n{router.MiniUpnpd!.Output}");

        Assert.NotNull(mapping);
        Assert.Equal(PortMappingProtocol.Pcp, mapping.Protocol);
        Assert.Equal(router.PublicIPv4, mapping.External.Address);
        Assert.Equal(InternalPort, mapping.InternalPort);
        Assert.Equal(PortMapper.DefaultLifetime, mapping.Lifetime);

        // Nothing went out from the inside port: the only way in is the mapping.
        using var sender = InNamespace.Run(outside.Namespace, () => Bound(0));
        var received = await ReceiveWhileSendingAsync(listener, sender, mapping.External, "hello through the mapping");
        Assert.Equal("hello through the mapping", received.Text);
        Assert.Equal(outside.IPv4!.Address, received.From.Address);

        Assert.True(await InNamespace.Run(inside.Namespace, () => mapper.DeleteAsync(mapping)), mapper.LastError);
    }

    [Fact]
    public async Task Without_a_port_mapping_service_the_mapper_gives_up_within_its_timeout()
    {
        await using var lab = await CreateLabAsync();
        var router = await lab.AddRouterAsync(NatKind.Hard);
        var inside = await router.AddHostAsync();
        var mapper = new PortMapper(router.Lan.GatewayIPv4!.Address) { Timeout = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();

        var mapping = await InNamespace.Run(inside.Namespace, () => mapper.MapUdpAsync(InternalPort, PortMapper.DefaultLifetime));

        output.WriteLine($"{clock.Elapsed}: {mapper.LastError}");
        Assert.Null(mapping);
        Assert.True(clock.Elapsed < 2 * mapper.Timeout + TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }

    private static async Task<NatLab> CreateLabAsync(params string[] extraTools)
    {
        LabRequirements.EnsureAvailable([.. NatLab.RequiredTools, .. extraTools]);
        await LeftoversDeleted.Value;
        return await NatLab.CreateAsync();
    }

    private static Socket Bound(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Any, port));
        return socket;
    }

    /// <summary>Sends every 200 ms (a datagram may race the rules settling) until the listener gets one.</summary>
    private static async Task<(string Text, IPEndPoint From)> ReceiveWhileSendingAsync(Socket listener, Socket sender, IPEndPoint to, string text)
    {
        using var deadline = new CancellationTokenSource(Patience);
        var buffer = new byte[1500];
        var receive = listener.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), deadline.Token).AsTask();
        while (!receive.IsCompleted)
        {
            await sender.SendToAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None, to, deadline.Token);
            await Task.WhenAny(receive, Task.Delay(200, deadline.Token));
        }

        var result = await receive;
        return (Encoding.UTF8.GetString(buffer, 0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
    }
}
