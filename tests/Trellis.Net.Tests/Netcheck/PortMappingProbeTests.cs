using System.Net;
using System.Net.Sockets;
using System.Text;
using Trellis.Net.Netcheck;

namespace Trellis.Net.Tests.Netcheck;

public sealed class PortMappingProbeTests
{
    // Only a failing test waits this long: answers end the probe, and a refusal ends it at once.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_gateway_answering_NAT_PMP_PCP_and_SSDP_is_reported_with_all_three()
    {
        using var gateway = Bind();
        using var ssdp = Bind();
        var answering = Task.WhenAll(AnswerPortMappingAsync(gateway), AnswerSsdpAsync(ssdp));

        var services = await PortMappingProbe.ProbeAsync(IPAddress.Loopback, Port(gateway), Local(ssdp), Patience, TimeProvider.System, default);

        Assert.Equal(new PortMappingServices(NatPmp: true, Pcp: true, Upnp: true), services);
        await answering;
    }

    [Fact]
    public async Task Nothing_listening_is_no_service()
    {
        var closed = ClosedPort();
        var services = await PortMappingProbe.ProbeAsync(
            IPAddress.Loopback, closed, new IPEndPoint(IPAddress.Loopback, closed), TimeSpan.FromMilliseconds(300), TimeProvider.System, default);

        Assert.Equal(PortMappingServices.None, services);
    }

    [Fact]
    public async Task A_gateway_refusing_port_5351_is_known_at_once_without_waiting_for_the_timeout()
    {
        // The connected socket sees the ICMP port-unreachable, which ends the wait.
        using var gatewayGone = new CancellationTokenSource(Patience);
        var (natPmp, pcp) = await PortMappingProbe.ProbeNatPmpAndPcpAsync(new IPEndPoint(IPAddress.Loopback, ClosedPort()), gatewayGone.Token);

        Assert.False(natPmp);
        Assert.False(pcp);
        Assert.False(gatewayGone.IsCancellationRequested);
    }

    [Fact]
    public async Task No_gateway_means_nothing_is_asked()
    {
        Assert.Equal(PortMappingServices.None, await PortMappingProbe.ProbeAsync(null, 5351, PortMappingProbe.SsdpGroup, Patience, TimeProvider.System, default));
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n", true)]
    [InlineData("HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:service:WANIPConnection:1\r\n\r\n", true)]
    [InlineData("HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:MediaRenderer:1\r\n\r\n", false)]
    [InlineData("NOTIFY * HTTP/1.1\r\nNT: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n", false)]
    public void Only_a_200_naming_a_gateway_counts_as_UPnP(string reply, bool gateway)
    {
        Assert.Equal(gateway, PortMappingProbe.IsGatewayAnswer(reply));
    }

    [Fact]
    public void The_PCP_announce_carries_version_2_opcode_0_and_the_clients_mapped_address()
    {
        var request = PortMappingProbe.PcpAnnounce(IPAddress.Parse("192.168.1.20"));
        Assert.Equal(24, request.Length);
        Assert.Equal(2, request[0]);
        Assert.Equal(0, request[1]);
        Assert.Equal(IPAddress.Parse("::ffff:192.168.1.20"), new IPAddress(request.AsSpan(8, 16)));
    }

    private static Socket Bind()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static int ClosedPort()
    {
        using var probe = Bind();
        return Port(probe);
    }

    private static int Port(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Port;

    private static IPEndPoint Local(Socket socket) => (IPEndPoint)socket.LocalEndPoint!;

    /// <summary>A miniature NAT-PMP and PCP server: one reply to each of the two requests the probe sends.</summary>
    private static async Task AnswerPortMappingAsync(Socket socket)
    {
        var buffer = new byte[1100];
        for (var i = 0; i < 2; i++)
        {
            var received = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0)).WaitAsync(Patience);
            byte[] reply = buffer[0] switch
            {
                0 => [0, 128, 0, 0, 0, 0, 0, 1, 198, 51, 100, 1], // public address 198.51.100.1, epoch 1
                2 => [2, 0x80, 0, 0, .. new byte[20]],
                _ => throw new InvalidOperationException($"unexpected version {buffer[0]}"),
            };
            Assert.Equal(buffer[0] == 0 ? 2 : 24, received.ReceivedBytes);
            await socket.SendToAsync(reply, received.RemoteEndPoint);
        }
    }

    private static async Task AnswerSsdpAsync(Socket socket)
    {
        var buffer = new byte[2048];
        var received = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0)).WaitAsync(Patience);
        var search = Encoding.ASCII.GetString(buffer, 0, received.ReceivedBytes);
        Assert.StartsWith("M-SEARCH * HTTP/1.1\r\n", search, StringComparison.Ordinal);
        Assert.Contains("InternetGatewayDevice", search, StringComparison.Ordinal);
        var reply = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n";
        await socket.SendToAsync(Encoding.ASCII.GetBytes(reply), received.RemoteEndPoint);
    }
}
