using System.Net;

namespace Trellis.Core.Control;

/// <summary>
/// Where an overlay may lie, agreed by server and node: shared address space (RFC 6598), private
/// IPv4 (RFC 1918), unique local IPv6 (RFC 4193). The server allocates only from here and the node
/// routes only this into the tunnel, so no map can capture a host's traffic to the internet.
/// </summary>
public static class OverlaySpace
{
    private static readonly IPNetwork[] Ranges =
    [
        IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("fc00::/7"),
    ];

    /// <summary>The ranges as text, for messages.</summary>
    public static string Describe { get; } = string.Join(", ", Ranges.Select(r => r.ToString()));

    /// <summary>Whether the whole prefix lies inside one of the ranges.</summary>
    public static bool Contains(IPNetwork prefix) =>
        Array.Exists(Ranges, range => range.BaseAddress.AddressFamily == prefix.BaseAddress.AddressFamily
            && prefix.PrefixLength >= range.PrefixLength && range.Contains(prefix.BaseAddress));
}
