using System.Net;
using Trellis.Core.Control;

namespace Trellis.Control.Policy;

/// <summary>
/// What autogroup:internet grants: the public internet through exit nodes. On an exit node (a node
/// serving the default routes) it opens every public address, which leaves out the overlay and private
/// space, loopback, link-local and multicast, so it never grants the exit node itself or its LAN; a
/// node that is no exit node it grants nothing. "*" as a destination grants the default routes whole, as in Tailscale.
/// </summary>
internal static class InternetAccess
{
    private static readonly IPNetwork[] NotInternetIPv4 =
    [
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("224.0.0.0/3"),
    ];

    /// <summary>The public addresses as CIDR text: IPv4 without the ranges above, and IPv6 global unicast.</summary>
    public static IReadOnlyList<string> Prefixes { get; } =
        [.. Subtract(ExitRoutes.IPv4, NotInternetIPv4).Select(p => p.ToString()), "2000::/3"];

    public static bool IsExitNode(PolicyNode node) => node.Routes.Any(ExitRoutes.IsExitRoute);

    /// <summary><paramref name="prefix"/> without <paramref name="excluded"/>, as the fewest prefixes: halves are split only where an exclusion cuts them.</summary>
    private static IEnumerable<IPNetwork> Subtract(IPNetwork prefix, IPNetwork[] excluded)
    {
        if (excluded.Any(e => PolicyPrefixes.Covers(e, prefix)))
        {
            yield break;
        }

        if (!excluded.Any(e => PolicyPrefixes.Covers(prefix, e)))
        {
            yield return prefix;
            yield break;
        }

        var bytes = prefix.BaseAddress.GetAddressBytes();
        var length = prefix.PrefixLength + 1;
        var upper = (byte[])bytes.Clone();
        upper[prefix.PrefixLength / 8] |= (byte)(0x80 >> (prefix.PrefixLength % 8));
        foreach (var half in new[] { new IPNetwork(new IPAddress(bytes), length), new IPNetwork(new IPAddress(upper), length) })
        {
            foreach (var part in Subtract(half, excluded))
            {
                yield return part;
            }
        }
    }
}
