using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Trellis.Node.Control;

/// <summary>
/// The node's own candidate endpoints: every usable address of its interfaces with the WireGuard
/// port, IPv6 in brackets. Loopback, link-local (they need a zone the peer cannot know) and the
/// node's own overlay addresses (on its TUN) are left out.
/// </summary>
public static class LocalEndpoints
{
    public static IReadOnlyList<string> Gather(int port, string? excludeInterface = null, IReadOnlyList<string>? overlayPrefixes = null)
    {
        if (port is <= 0 or > 65535)
        {
            return [];
        }

        var overlays = new List<IPNetwork>();
        foreach (var text in overlayPrefixes ?? [])
        {
            if (IPNetwork.TryParse(text, out var prefix))
            {
                overlays.Add(prefix);
            }
        }

        var endpoints = new List<string>();
        NetworkInterface[] interfaces;
        try
        {
            interfaces = NetworkInterface.GetAllNetworkInterfaces();
        }
        catch (NetworkInformationException)
        {
            return [];
        }

        foreach (var nic in interfaces)
        {
            // TUN and some virtual links report Unknown rather than Up.
            if (nic.OperationalStatus is not (OperationalStatus.Up or OperationalStatus.Unknown)
                || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback
                || nic.Name == excludeInterface)
            {
                continue;
            }

            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                var address = unicast.Address;
                if (Usable(address) && !overlays.Exists(o => o.Contains(address)))
                {
                    var endpoint = new IPEndPoint(address, port).ToString();
                    if (!endpoints.Contains(endpoint))
                    {
                        endpoints.Add(endpoint);
                    }
                }
            }
        }

        return endpoints;
    }

    private static bool Usable(IPAddress address)
    {
        if (IPAddress.IsLoopback(address))
        {
            return false;
        }

        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => !IPNetwork.Parse("169.254.0.0/16").Contains(address),
            AddressFamily.InterNetworkV6 => !address.IsIPv6LinkLocal && !address.IsIPv6Multicast && !address.IsIPv4MappedToIPv6,
            _ => false,
        };
    }
}
