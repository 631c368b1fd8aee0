using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;

namespace Trellis.WireGuard.Uapi;

/// <summary>
/// Value parsers as strict as the Go standard library calls wireguard-go makes (strconv.ParseUint,
/// netip.ParsePrefix, netip.ParseAddrPort), so that what one rejects the other rejects too.
/// </summary>
internal static class UapiParsing
{
    /// <summary>strconv.ParseUint(text, 10, n): ASCII digits only, no sign or spaces, at most <paramref name="max"/>.</summary>
    public static bool TryParseDecimal(ReadOnlySpan<char> text, ulong max, out ulong value)
    {
        value = 0;
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            var digit = (ulong)(c - '0');
            if (digit > max || value > (max - digit) / 10)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        return true;
    }

    /// <summary>Dotted quad only: exactly four decimal fields without leading zeros (no "10", "10.1" or octal forms).</summary>
    public static bool TryParseIPv4(ReadOnlySpan<char> text, Span<byte> address)
    {
        var i = 0;
        for (var field = 0; field < 4; field++)
        {
            if (field > 0)
            {
                if (i >= text.Length || text[i] != '.')
                {
                    return false;
                }

                i++;
            }

            var start = i;
            var value = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]) && i - start < 3)
            {
                value = (value * 10) + (text[i] - '0');
                i++;
            }

            var length = i - start;
            if (length == 0 || (length > 1 && text[start] == '0') || value > 255)
            {
                return false;
            }

            address[field] = (byte)value;
        }

        return i == text.Length;
    }

    /// <summary>An IPv6 literal without zone or brackets.</summary>
    public static bool TryParseIPv6(ReadOnlySpan<char> text, Span<byte> address)
    {
        // The platform parser is lenient about zones, brackets and spaces; only hex, ':' and '.' pass here.
        if (!text.Contains(':') || text.ContainsAnyExcept("0123456789abcdefABCDEF:.") ||
            !IPAddress.TryParse(text, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        return ip.TryWriteBytes(address, out var written) && written == 16;
    }

    /// <summary>
    /// netip.ParsePrefix: <c>address/bits</c> with bits in range and without leading zeros. Host bits
    /// may be set (the table masks them). Returns the address length, 4 or 16, or 0 when invalid.
    /// </summary>
    public static int TryParsePrefix(ReadOnlySpan<char> text, Span<byte> address, out int bits)
    {
        bits = 0;
        var slash = text.LastIndexOf('/');
        if (slash < 0)
        {
            return 0;
        }

        var host = text[..slash];
        var bitsText = text[(slash + 1)..];
        if (bitsText.Length > 1 && bitsText[0] == '0')
        {
            return 0;
        }

        // netip decides the family by whichever of '.' and ':' comes first.
        var separator = host.IndexOfAny('.', ':');
        int length;
        if (separator >= 0 && host[separator] == ':')
        {
            length = TryParseIPv6(host, address) ? 16 : 0;
        }
        else
        {
            length = TryParseIPv4(host, address) ? 4 : 0;
        }

        if (length == 0 || !TryParseDecimal(bitsText, (ulong)length * 8, out var value))
        {
            return 0;
        }

        bits = (int)value;
        return length;
    }

    /// <summary>
    /// netip.ParseAddrPort: <c>a.b.c.d:port</c> or <c>[ipv6%zone]:port</c>, numeric only (wg resolves
    /// names before it sends them). Unlike wireguard-go, port 0 is refused: nothing can be sent to it.
    /// </summary>
    public static bool TryParseEndpoint(string text, out Endpoint endpoint)
    {
        endpoint = default;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !TryParseDecimal(text.AsSpan(colon + 1), ushort.MaxValue, out _))
        {
            return false;
        }

        var host = text.AsSpan(0, colon);
        Span<byte> scratch = stackalloc byte[16];
        if (host[0] == '[')
        {
            if (host.Length < 2 || host[^1] != ']')
            {
                return false;
            }

            var inner = host[1..^1];
            var percent = inner.IndexOf('%');
            if (percent == 0 || percent == inner.Length - 1)
            {
                return false;
            }

            if (!TryParseIPv6(percent < 0 ? inner : inner[..percent], scratch))
            {
                return false;
            }
        }
        else if (!TryParseIPv4(host, scratch))
        {
            return false;
        }

        return Endpoint.TryParse(text, out endpoint);
    }
}
