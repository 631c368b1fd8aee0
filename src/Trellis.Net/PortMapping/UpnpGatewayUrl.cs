using System.Net;

namespace Trellis.Net.PortMapping;

/// <summary>
/// Where the UPnP client may send requests: only to the gateway itself. The LOCATION of an SSDP answer
/// and the control URL of a description are written by whoever answered; following them elsewhere
/// would let a LAN host make this node send requests to any address (SSRF).
/// </summary>
public static class UpnpGatewayUrl
{
    /// <summary>True when <paramref name="url"/> is plain http to the literal address <paramref name="gateway"/> (any port): no host names, no other hosts.</summary>
    public static bool IsOnGateway(Uri url, IPAddress gateway)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(gateway);
        return url.IsAbsoluteUri
            && url.Scheme == Uri.UriSchemeHttp
            && url.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
            && IPAddress.TryParse(url.DnsSafeHost, out var host)
            && host.Equals(gateway);
    }
}
