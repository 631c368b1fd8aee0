using System.Xml.Linq;

namespace Trellis.Net.PortMapping;

/// <summary>Finds the WAN connection service in an IGD's root device description (UPnP Device Architecture §2.3).</summary>
public static class UpnpDescription
{
    private static readonly XNamespace Device = "urn:schemas-upnp-org:device-1-0";

    /// <summary>In order of preference: IPv4 NAT on an IP uplink (v1, then v2), then PPP.</summary>
    public static readonly IReadOnlyList<string> ServiceTypes =
    [
        "urn:schemas-upnp-org:service:WANIPConnection:1",
        "urn:schemas-upnp-org:service:WANIPConnection:2",
        "urn:schemas-upnp-org:service:WANPPPConnection:1",
    ];

    /// <summary>
    /// The preferred WAN connection service anywhere in the device tree, its controlURL resolved
    /// against URLBase if given, else against <paramref name="location"/>. False for malformed XML,
    /// a DTD, or more than <see cref="UpnpXml.MaxLength"/> characters. Where the URL points is the caller's to check.
    /// </summary>
    public static bool TryFindService(string xml, Uri location, out UpnpService service)
    {
        ArgumentNullException.ThrowIfNull(location);
        service = null!;
        var root = UpnpXml.TryParse(xml, out _)?.Root;
        if (root is null)
        {
            return false;
        }

        var baseUri = Uri.TryCreate(root.Element(Device + "URLBase")?.Value.Trim(), UriKind.Absolute, out var urlBase) ? urlBase : location;
        var services = root.Descendants(Device + "service")
            .Select(s => (Type: s.Element(Device + "serviceType")?.Value.Trim(), Control: s.Element(Device + "controlURL")?.Value.Trim()))
            .ToList();
        foreach (var type in ServiceTypes)
        {
            foreach (var (found, control) in services)
            {
                if (found == type && !string.IsNullOrEmpty(control) && Uri.TryCreate(baseUri, control, out var url) && url.Scheme == Uri.UriSchemeHttp)
                {
                    service = new UpnpService(url, type);
                    return true;
                }
            }
        }

        return false;
    }
}
