using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Trellis.Core.Control;

/// <summary>
/// The checks both ends apply to the DNS configuration: the server before it serves it, the node
/// before it trusts it. Names are lowercase RFC 1123 labels joined by dots, at most 253 characters.
/// </summary>
public static class DomainNames
{
    public const int MaxNameLength = 253;

    public const int MaxLabelLength = 63;

    /// <summary>At most this many of each list (search domains, nameservers, split domains, extra records).</summary>
    public const int MaxEntries = 256;

    /// <summary>Lowercases and drops one trailing dot; an error says what is wrong and what would be right.</summary>
    public static bool TryNormalize(string? text, [NotNullWhen(true)] out string? name, [NotNullWhen(false)] out string? error)
    {
        name = null;
        var t = (text ?? "").Trim().ToLowerInvariant();
        if (t.EndsWith('.'))
        {
            t = t[..^1];
        }

        if (t.Length == 0 || t.Length > MaxNameLength)
        {
            error = $"'{text}' is not a domain name: use 1 to {MaxNameLength} characters, e.g. trellis.internal";
            return false;
        }

        foreach (var label in t.Split('.'))
        {
            if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-' || !label.All(IsLabelChar))
            {
                error = $"'{text}' is not a domain name: each dot-separated part needs 1 to {MaxLabelLength} letters, digits or hyphens, not starting or ending with a hyphen (e.g. trellis.internal)";
                return false;
            }
        }

        name = t;
        error = null;
        return true;
    }

    /// <summary>"1.2.3.4", "1.2.3.4:5353", "fd00::1" or "[fd00::1]:5353"; port 53 when none is given.</summary>
    public static bool TryParseNameserver(string? text, [NotNullWhen(true)] out IPEndPoint? endpoint, [NotNullWhen(false)] out string? error)
    {
        var t = (text ?? "").Trim();
        if (IPAddress.TryParse(t, out var address) && !t.StartsWith('['))
        {
            endpoint = new IPEndPoint(address, 53);
            error = null;
            return true;
        }

        if (IPEndPoint.TryParse(t, out endpoint) && endpoint.Port > 0)
        {
            error = null;
            return true;
        }

        endpoint = null;
        error = $"'{text}' is not a nameserver: use an IP address, optionally with a port (1.1.1.1, 10.0.0.53:5353, [fd00::53]:53)";
        return false;
    }

    /// <summary>Whether <paramref name="name"/> is <paramref name="domain"/> or below it (both normalized).</summary>
    public static bool IsWithin(string name, string domain) =>
        name.Length == domain.Length ? name == domain
            : name.Length > domain.Length && name.EndsWith(domain, StringComparison.Ordinal) && name[^(domain.Length + 1)] == '.';

    public static string Describe(IPEndPoint endpoint) =>
        endpoint.Port == 53 ? endpoint.Address.ToString() : endpoint.ToString();

    private static bool IsLabelChar(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-';

}
