using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Trellis.Net.Netcheck;

/// <summary>
/// Asks the gateway whether it offers port mapping: a NAT-PMP public-address request and a PCP
/// ANNOUNCE to UDP 5351 (one connected socket, so a gateway with nothing there answers at once
/// with an ICMP error), and an SSDP M-SEARCH for an Internet Gateway Device. Nothing is mapped.
/// </summary>
internal static class PortMappingProbe
{
    public const int NatPmpPort = 5351;

    public static readonly IPEndPoint SsdpGroup = new(IPAddress.Parse("239.255.255.250"), 1900);

    private static readonly byte[] MSearch = Encoding.ASCII.GetBytes(
        "M-SEARCH * HTTP/1.1\r\n" +
        "HOST: 239.255.255.250:1900\r\n" +
        "MAN: \"ssdp:discover\"\r\n" +
        "MX: 1\r\n" +
        "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
        "\r\n");

    public static async Task<PortMappingServices> ProbeAsync(
        IPAddress? gateway,
        int natPmpPort,
        IPEndPoint ssdp,
        TimeSpan timeout,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (gateway is null)
        {
            return PortMappingServices.None;
        }

        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        var pmpPcp = ProbeNatPmpAndPcpAsync(new IPEndPoint(gateway, natPmpPort), linked.Token);
        var upnp = ProbeUpnpAsync(ssdp, linked.Token);
        var (natPmp, pcp) = await pmpPcp.ConfigureAwait(false);
        var hasUpnp = await upnp.ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return new PortMappingServices(natPmp, pcp, hasUpnp);
    }

    /// <summary>A NAT-PMP reply to opcode 0 (public address) with result 0 (RFC 6886 §3.2).</summary>
    public static bool IsNatPmpAnswer(ReadOnlySpan<byte> reply) =>
        reply.Length >= 12 && reply[0] == 0 && reply[1] == 128 && BinaryPrimitives.ReadUInt16BigEndian(reply[2..]) == 0;

    /// <summary>A PCP ANNOUNCE response (version 2, R bit set, opcode 0) with result SUCCESS (RFC 6887 §7.2).</summary>
    public static bool IsPcpAnswer(ReadOnlySpan<byte> reply) =>
        reply.Length >= 24 && reply[0] == 2 && reply[1] == 0x80 && reply[3] == 0;

    /// <summary>An SSDP answer (HTTP 200) naming a gateway device or its WAN connection service.</summary>
    public static bool IsGatewayAnswer(string reply) =>
        reply.StartsWith("HTTP/1.1 200", StringComparison.OrdinalIgnoreCase)
        && (reply.Contains("InternetGatewayDevice", StringComparison.OrdinalIgnoreCase)
            || reply.Contains("WANIPConnection", StringComparison.OrdinalIgnoreCase)
            || reply.Contains("WANPPPConnection", StringComparison.OrdinalIgnoreCase));

    /// <summary>PCP ANNOUNCE (RFC 6887 §14.1): the common request header with lifetime 0 and our address, nothing else.</summary>
    public static byte[] PcpAnnounce(IPAddress client)
    {
        var request = new byte[24];
        request[0] = 2;
        client.MapToIPv6().TryWriteBytes(request.AsSpan(8), out _);
        return request;
    }

    internal static async Task<(bool NatPmp, bool Pcp)> ProbeNatPmpAndPcpAsync(IPEndPoint gateway, CancellationToken token)
    {
        bool natPmp = false, pcp = false;
        using var socket = new Socket(gateway.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            await socket.ConnectAsync(gateway, token).ConfigureAwait(false);
            var local = ((IPEndPoint)socket.LocalEndPoint!).Address;
            await socket.SendAsync(new byte[] { 0, 0 }, SocketFlags.None, token).ConfigureAwait(false);
            await socket.SendAsync(PcpAnnounce(local), SocketFlags.None, token).ConfigureAwait(false);
            var buffer = new byte[1100];
            while (!(natPmp && pcp))
            {
                var length = await socket.ReceiveAsync(buffer, SocketFlags.None, token).ConfigureAwait(false);
                natPmp |= IsNatPmpAnswer(buffer.AsSpan(0, length));
                pcp |= IsPcpAnswer(buffer.AsSpan(0, length));
            }
        }
        catch (OperationCanceledException)
        {
            // Time is up: what answered so far is the answer.
        }
        catch (SocketException)
        {
            // Refused (nothing listens on 5351) or unreachable: no such service.
        }

        return (natPmp, pcp);
    }

    private static async Task<bool> ProbeUpnpAsync(IPEndPoint ssdp, CancellationToken token)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Any, 0));
            await socket.SendToAsync(MSearch, SocketFlags.None, ssdp, token).ConfigureAwait(false);
            var buffer = new byte[2048];
            while (true)
            {
                var length = await socket.ReceiveAsync(buffer, SocketFlags.None, token).ConfigureAwait(false);
                if (IsGatewayAnswer(Encoding.ASCII.GetString(buffer, 0, length)))
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return false; // no multicast route, for one
        }
    }
}
