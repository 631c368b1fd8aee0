using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Node.Engine;

/// <summary>Parsing and comparing the prefixes a map carries as text.</summary>
internal static class Prefixes
{
    /// <summary>
    /// Parses a prefix, clearing host bits ("192.168.1.1/24" is 192.168.1.0/24): the server sends what
    /// an admin typed, and <see cref="IPNetwork"/> refuses a base address with host bits set.
    /// </summary>
    public static bool TryParseNetwork(string? text, out IPNetwork network)
    {
        network = default;
        if (!TrySplit(text, out var address, out var length))
        {
            return false;
        }

        network = Network(address, length);
        return true;
    }

    /// <summary>Whether one of the two contains the other (same family).</summary>
    public static bool Overlap(IPNetwork a, IPNetwork b) =>
        a.BaseAddress.AddressFamily == b.BaseAddress.AddressFamily && (a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress));

    public static bool IsIPv6(IPNetwork network) => network.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6;

    public static IPNetwork Network(IPAddress address, int prefixLength) => Trellis.Net.IPNetworks.Network(address, prefixLength);

    public static bool TrySplit(string? text, [NotNullWhen(true)] out IPAddress? address, out int prefixLength)
    {
        address = null;
        prefixLength = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];

        // IPv4 must be a plain dotted quad: inet_aton's shorthands ("10.1" is 10.0.0.1) are typos here.
        if (!IPAddress.TryParse(addressText, out var parsed) ||
            parsed.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) ||
            parsed.IsIPv4MappedToIPv6 ||
            (parsed.AddressFamily == AddressFamily.InterNetwork && parsed.ToString() != addressText))
        {
            return false;
        }

        var max = parsed.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var length = max;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > max))
        {
            return false;
        }

        // a zone ("%eth0") means nothing in a route or an overlay address
        address = parsed.AddressFamily == AddressFamily.InterNetworkV6 && parsed.ScopeId != 0 ? new IPAddress(parsed.GetAddressBytes()) : parsed;
        prefixLength = length;
        return true;
    }
}
