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
