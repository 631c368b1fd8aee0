using System.Text;

namespace Trellis.Net.PortMapping;

/// <summary>
/// SSDP discovery of an Internet Gateway Device (UPnP Device Architecture 1.1 §1.3): an M-SEARCH
/// request to 239.255.255.250:1900 and the unicast HTTPU reply whose LOCATION names the root description.
/// </summary>
public static class SsdpSearch
{
    public const int Port = 1900;
    public const string MulticastAddress = "239.255.255.250";
    public const string GatewayDeviceType = "urn:schemas-upnp-org:device:InternetGatewayDevice:1";

    /// <summary>Replies are one datagram; anything longer is not an SSDP reply.</summary>
    public const int MaxLength = 4096;

    public static byte[] Request(string searchTarget = GatewayDeviceType, int maxWaitSeconds = 1) =>
        Encoding.ASCII.GetBytes(
            "M-SEARCH * HTTP/1.1\r\n"
            + $"HOST: {MulticastAddress}:{Port}\r\n"
            + "MAN: \"ssdp:discover\"\r\n"
            + $"MX: {maxWaitSeconds}\r\n"
            + $"ST: {searchTarget}\r\n"
            + "\r\n");

    /// <summary>
    /// Parses a search reply: "HTTP/1.1 200 OK" and an absolute http LOCATION. Header names are
    /// case-insensitive (§1.3.3); the ST is not checked, as some gateways answer with a service type.
    /// </summary>
    public static bool TryParseResponse(ReadOnlySpan<byte> reply, out Uri location)
    {
        location = null!;
        if (reply.IsEmpty || reply.Length > MaxLength)
        {
            return false;
        }

        var lines = Encoding.ASCII.GetString(reply).Split("\r\n");
        var status = lines[0].Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || status[1] != "200")
        {
            return false;
        }

        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals("LOCATION", StringComparison.OrdinalIgnoreCase)
                && Uri.TryCreate(line[(colon + 1)..].Trim(), UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp)
            {
                location = uri;
                return true;
            }
        }

        return false;
    }
}
