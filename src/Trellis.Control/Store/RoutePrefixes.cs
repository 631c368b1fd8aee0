using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Control.Store;

/// <summary>
/// CIDR prefixes as nodes advertise and admins approve them: canonical text only (no host bits
/// set), so the same route is always the same string in the database.
/// </summary>
public static class RoutePrefixes
{
    /// <summary>More than any real router advertises; keeps a hostile node from storing a huge row.</summary>
    public const int MaxRoutesPerNode = 1024;

    public static bool TryParse(string? text, out IPNetwork prefix, [NotNullWhen(false)] out string? error)
    {
        prefix = default;
        var parts = text?.Trim().Split('/');

        // Dotted quads only: IPAddress also accepts legacy forms such as "10" for 0.0.0.10.
        if (parts is not [var a, var l] || !IPAddress.TryParse(a, out var address)
            || (address.AddressFamily == AddressFamily.InterNetwork ? a.Count(c => c == '.') != 3 : address.ScopeId != 0)
            || !int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            || length > (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
        {
            error = $"invalid route prefix '{text}': expected CIDR like 10.0.0.0/24 or fd00::/64";
            return false;
        }

        var masked = Masked(address, length);
        if (!masked.BaseAddress.Equals(address))
        {
            error = $"invalid route prefix '{text}': host bits are set; did you mean {masked}?";
            return false;
        }

        prefix = masked;
        error = null;
        return true;
    }

    /// <summary>Parses, canonicalises, deduplicates and sorts a list of prefixes.</summary>
    public static bool TryNormalize(IEnumerable<string>? routes, [NotNullWhen(true)] out List<string>? normalized, [NotNullWhen(false)] out string? error)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var route in routes ?? [])
        {
            if (!TryParse(route, out var prefix, out error))
            {
                normalized = null;
                return false;
            }

            set.Add(prefix.ToString());
            if (set.Count > MaxRoutesPerNode)
            {
                normalized = null;
                error = $"too many route prefixes: at most {MaxRoutesPerNode}";
                return false;
            }
        }

        normalized = [.. set];
        error = null;
        return true;
    }

    /// <summary>
    /// Why <paramref name="route"/> may not be a subnet route, or null when it may: a route inside an
    /// overlay prefix (where node addresses come from) or containing one would take traffic meant for
    /// nodes, since prefixes either nest or are disjoint, either way is an overlap.
    /// </summary>
    public static string? OverlayConflict(IPNetwork route, IReadOnlyList<IPNetwork> overlays)
    {
        ArgumentNullException.ThrowIfNull(overlays);

        // A default route is an exit node's offer, not a subnet route: clients route to it by policy
        // routing, beside the overlay's own routes, never in their place.
        if (Trellis.Core.Control.ExitRoutes.IsExitRoute(route))
        {
            return null;
        }

        foreach (var overlay in overlays)
        {
            if (Covers(overlay, route))
            {
                return $"the route '{route}' lies inside {overlay}, the overlay prefix node addresses are assigned from; "
                       + "a subnet route must be outside it (advertise the network behind the node, e.g. 192.168.1.0/24)";
            }

            if (Covers(route, overlay))
            {
                return $"the route '{route}' contains {overlay}, the overlay prefix node addresses are assigned from, "
                       + $"so it would capture traffic meant for nodes; advertise narrower prefixes that leave {overlay} out (or offer an exit node with 0.0.0.0/0 and ::/0)";
            }
        }

        return null;
    }

    /// <summary>The first <see cref="OverlayConflict"/> among canonical prefixes, or null.</summary>
    public static string? OverlayConflict(IEnumerable<string> routes, IReadOnlyList<IPNetwork> overlays)
    {
        foreach (var text in routes)
        {
            if (IPNetwork.TryParse(text, out var route) && OverlayConflict(route, overlays) is { } conflict)
            {
                return conflict;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="inner"/> lies entirely inside <paramref name="outer"/>.</summary>
    public static bool Covers(IPNetwork outer, IPNetwork inner) =>
        outer.BaseAddress.AddressFamily == inner.BaseAddress.AddressFamily
        && outer.PrefixLength <= inner.PrefixLength && outer.Contains(inner.BaseAddress);

    private static IPNetwork Masked(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        for (var bit = length; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPNetwork(new IPAddress(bytes), length);
    }
}
