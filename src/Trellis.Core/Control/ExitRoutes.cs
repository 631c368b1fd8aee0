using System.Net;

namespace Trellis.Core.Control;

/// <summary>
/// The two default routes a node advertises to offer itself as an exit node, and that a client routes
/// to the exit node it chose. Server and node agree on them here: a default route is never an ordinary
/// subnet route (it contains the overlay), only this.
/// </summary>
public static class ExitRoutes
{
    public static readonly IPNetwork IPv4 = new(IPAddress.Any, 0);

    public static readonly IPNetwork IPv6 = new(IPAddress.IPv6Any, 0);

    /// <summary>Both, IPv4 first, as text in the canonical form routes are stored in.</summary>
    public static IReadOnlyList<string> Texts { get; } = [IPv4.ToString(), IPv6.ToString()];

    public static bool IsExitRoute(IPNetwork route) => route.PrefixLength == 0;

    public static bool IsExitRoute(string route) => IPNetwork.TryParse(route, out var network) && network.PrefixLength == 0 && route.EndsWith("/0", StringComparison.Ordinal);

    /// <summary>Whether these allowed IPs (or approved routes) make the node an exit node: both default routes.</summary>
    public static bool Offers(IEnumerable<string> allowedIps)
    {
        ArgumentNullException.ThrowIfNull(allowedIps);
        var v4 = false;
        var v6 = false;
        foreach (var text in allowedIps)
        {
            v4 |= text == Texts[0];
            v6 |= text == Texts[1];
        }

        return v4 && v6;
    }
}
