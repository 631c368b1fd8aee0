using System.Net;
using Trellis.Core.Transport;

namespace Trellis.Node.Engine;

/// <summary>
/// Picks the one UDP endpoint WireGuard sends a peer's packets to, from the candidates the peer
/// reported. Deliberately simple and alone in this class: path discovery (probing candidates, relays)
/// replaces it later without touching the reconcile logic.
/// </summary>
internal static class EndpointChooser
{
    /// <summary>
    /// The first usable candidate of the preferred family (IPv6 when this node has IPv6, since it
    /// crosses no NAT), else the first usable one of the other family; null when none parses.
    /// </summary>
    public static Endpoint? Choose(IReadOnlyList<string> candidates, bool preferIPv6)
    {
        Endpoint? fallback = null;
        foreach (var text in candidates)
        {
            if (!TryParseUsable(text, out var endpoint))
            {
                continue;
            }

            if (endpoint.IsIPv4 != preferIPv6)
            {
                return endpoint;
            }

            fallback ??= endpoint;
        }

        return fallback;
    }

    /// <summary>
    /// Whether this node can reach peers over IPv6: its own reported endpoints (what endpoint
    /// gathering found) include a usable IPv6 one.
    /// </summary>
    public static bool HasIPv6(IReadOnlyList<string> ownEndpoints)
    {
        foreach (var text in ownEndpoints)
        {
            if (TryParseUsable(text, out var endpoint) && !endpoint.IsIPv4)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An ip:port that can be sent to: not unspecified, multicast, or link-local without a scope.</summary>
    private static bool TryParseUsable(string text, out Endpoint endpoint)
    {
        if (!Endpoint.TryParse(text, out endpoint))
        {
            return false;
        }

        var address = endpoint.ToIPAddress();
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.IsIPv6Multicast ||
            (endpoint.IsIPv4 && address.GetAddressBytes()[0] >= 224) ||
            (address.IsIPv6LinkLocal && endpoint.ScopeId == 0))
        {
            return false;
        }

        return true;
    }
}
