using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Control.Policy;

/// <summary>IP addresses and prefixes as a policy writes them, and how they meet a node's addresses and routes.</summary>
internal static class PolicyPrefixes
{
    private const int IPv4Bits = 32;
    private const int IPv6Bits = 128;
    private const int BitsPerByte = 8;
    private const int AllBits = 0xFF;

    public static IPNetwork Host(IPAddress address) =>
        new(address, address.AddressFamily == AddressFamily.InterNetwork ? IPv4Bits : IPv6Bits);

    public static string HostText(IPAddress address) => Host(address).ToString();

    /// <summary>
    /// Whether <paramref name="text"/> looks like an address or prefix at all (so a host alias is never taken
    /// for one); <paramref name="error"/> says what is wrong with one that looks like it but is not.
    /// </summary>
    public static bool TryParse(string text, out IPNetwork prefix, out string? error)
    {
        prefix = default;
        error = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!LooksLikeAddress(addressText))
        {
            return false;
        }

        if (!IPAddress.TryParse(addressText, out var address) || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0))
        {
            error = $"'{text}' is not an IP address";
            return true;
        }

        var bits = address.AddressFamily == AddressFamily.InterNetwork ? IPv4Bits : IPv6Bits;
        var length = bits;
        if (slash >= 0)
        {
            var lengthText = text[(slash + 1)..];
            if (lengthText.Length is 0 or > 3 || !lengthText.All(char.IsAsciiDigit)
                || (length = int.Parse(lengthText, CultureInfo.InvariantCulture)) > bits)
            {
                error = $"'{text}' has no valid prefix length (0-{bits})";
                return true;
            }
        }

        var network = new IPNetwork(Mask(address, length), length);
        if (!network.BaseAddress.Equals(address))
        {
            error = $"the prefix '{text}' has host bits set; did you mean {network}?";
            return true;
        }

        prefix = network;
        return true;
    }

    /// <summary>Whether a node is reached through the prefix: an address inside it, or a served route overlapping it.</summary>
    public static bool Touches(IPNetwork prefix, PolicyNode node) =>
        prefix.Contains(node.IPv4) || prefix.Contains(node.IPv6) || node.Routes.Any(route => Overlap(prefix, route));

    public static bool Covers(IPNetwork outer, IPNetwork inner) =>
        outer.BaseAddress.AddressFamily == inner.BaseAddress.AddressFamily
        && outer.PrefixLength <= inner.PrefixLength
        && outer.Contains(inner.BaseAddress);

    public static bool Overlap(IPNetwork a, IPNetwork b) => Covers(a, b) || Covers(b, a);

    private static bool LooksLikeAddress(string text) =>
        text.Contains(':', StringComparison.Ordinal)
        || (text.Count(c => c == '.') == 3 && text.All(c => char.IsAsciiDigit(c) || c == '.'));

    private static IPAddress Mask(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(length - (i * BitsPerByte), 0, BitsPerByte);
            bytes[i] &= (byte)(AllBits << (BitsPerByte - keep));
        }

        return new IPAddress(bytes);
    }
}
