using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Control.Store;

/// <summary>
/// Endpoint lists as nodes report them: "ip:port" (IPv6 in brackets), canonical, distinct and bounded
/// before they are stored or sent to any peer.
/// <para>Refused (the whole list, with an error the node is sent): an entry that is not ip:port text,
/// or more than <see cref="MaxReportedEndpoints"/> entries. Dropped (the rest is kept): duplicates
/// (also an IPv4 address written as IPv4-mapped IPv6), port 0, unspecified, multicast and broadcast
/// addresses, IPv6 link-local or zoned addresses (a peer cannot know the zone), and whatever follows
/// the first <see cref="MaxEndpointsPerNode"/> usable entries: nodes list their best candidates first.</para>
/// </summary>
public static class EndpointLists
{
    /// <summary>More candidates than a multi-homed host with port mapping and STUN has; each costs every peer a probe.</summary>
    public const int MaxEndpointsPerNode = 32;

    /// <summary>A list longer than this is not a mistake to tidy up but a node to refuse.</summary>
    public const int MaxReportedEndpoints = 256;

    /// <summary>"[ffff:...:ffff%interface]:65535" and then some; longer text is not an endpoint.</summary>
    private const int MaxEndpointText = 64;

    public static bool TryNormalize(IEnumerable<string>? endpoints, [NotNullWhen(true)] out List<string>? normalized, [NotNullWhen(false)] out string? error)
    {
        normalized = [];
        var seen = 0;
        foreach (var text in endpoints ?? [])
        {
            if (++seen > MaxReportedEndpoints)
            {
                normalized = null;
                error = $"too many endpoints: at most {MaxReportedEndpoints} are accepted (and the first {MaxEndpointsPerNode} usable ones kept)";
                return false;
            }

            if (text is null || text.Length > MaxEndpointText || !HasPort(text) || !IPEndPoint.TryParse(text, out var endpoint))
            {
                normalized = null;
                error = $"invalid endpoint '{Shorten(text)}': expected ip:port, with IPv6 in brackets, e.g. 203.0.113.7:41641 or [2001:db8::7]:41641";
                return false;
            }

            if (normalized.Count == MaxEndpointsPerNode || !IsUsable(endpoint))
            {
                continue;
            }

            if (endpoint.Address.IsIPv4MappedToIPv6)
            {
                endpoint = new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port);
            }

            var canonical = endpoint.ToString();
            if (!normalized.Contains(canonical, StringComparer.Ordinal))
            {
                normalized.Add(canonical);
            }
        }

        error = null;
        return true;
    }

    /// <summary>IPEndPoint also reads a bare address (as port 0): a port must be written, after ']' for IPv6.</summary>
    private static bool HasPort(string text) =>
        text.StartsWith('[') ? text.Contains("]:", StringComparison.Ordinal) : text.Count(c => c == ':') == 1;

    /// <summary>Whether a peer could send to it: a port, and an address that names one reachable host.</summary>
    private static bool IsUsable(IPEndPoint endpoint)
    {
        var address = endpoint.Address.IsIPv4MappedToIPv6 ? endpoint.Address.MapToIPv4() : endpoint.Address;
        if (endpoint.Port == 0)
        {
            return false;
        }

        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.Broadcast) && !IsIPv4Multicast(address),
            AddressFamily.InterNetworkV6 => !address.Equals(IPAddress.IPv6Any) && !address.IsIPv6Multicast
                                            && !address.IsIPv6LinkLocal && address.ScopeId == 0,
            _ => false,
        };
    }

    private static bool IsIPv4Multicast(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return bytes[0] is >= 224 and <= 239;
    }

    private static string Shorten(string? text) => text is null ? "null" : text.Length > MaxEndpointText ? text[..MaxEndpointText] + "..." : text;
}
