using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Control.Store;

/// <summary>
/// Where a plain WireGuard peer dials its gateway. A stock client cannot punch holes, so only an
/// endpoint reachable unasked will do: the one an admin gave, else the first endpoint the gateway
/// reports on a public address (IPv4 first: most phones' networks still lack IPv6).
/// </summary>
public static class GatewayEndpoints
{
    private const int MaxHostLength = 253;

    /// <summary>The endpoint to print in a plain peer's configuration, or null when the gateway has none.</summary>
    public static string? Choose(Node gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        if (gateway.GatewayEndpoint is { } given)
        {
            return given;
        }

        var reported = gateway.Endpoints.Select(e => IPEndPoint.TryParse(e, out var p) ? p : null).OfType<IPEndPoint>().Where(p => IsPublic(p.Address)).ToList();
        return (reported.FirstOrDefault(p => p.AddressFamily == AddressFamily.InterNetwork) ?? reported.FirstOrDefault())?.ToString();
    }

    /// <summary>host:port or ip:port (IPv6 in brackets), as wg-quick's Endpoint takes it.</summary>
    public static bool IsValid(string text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > MaxHostLength + 7)
        {
            return false;
        }

        if (IPEndPoint.TryParse(text, out var endpoint))
        {
            return endpoint.Port > 0 && (endpoint.AddressFamily == AddressFamily.InterNetwork || text.StartsWith('['));
        }

        var colon = text.LastIndexOf(':');
        return colon > 0
            && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            && Uri.CheckHostName(text[..colon]) == UriHostNameType.Dns;
    }

    /// <summary>Not private, shared (CGNAT), loopback, link-local or unique-local space.</summary>
    internal static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168)
                || (b[0] == 100 && (b[1] & 0xC0) == 64) || (b[0] == 169 && b[1] == 254) || b[0] == 0);
        }

        return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.Equals(IPAddress.IPv6None));
    }
}
