using System.Globalization;
using System.Net;

namespace Trellis.Core.Metrics;

/// <summary>
/// Where a Prometheus /metrics listener binds: an IP address and a port, e.g. 127.0.0.1:9090 or
/// [::1]:9090. No host names: a listener bound by name could land on an address nobody meant to expose.
/// </summary>
public static class MetricsAddress
{
    /// <summary>The endpoint, or null with <paramref name="error"/> saying what is wrong and what would do.</summary>
    public static IPEndPoint? TryParse(string? text, out string error)
    {
        error = "";
        var given = text?.Trim() ?? "";
        if (given.Length == 0)
        {
            error = "is empty; give ADDRESS:PORT, e.g. 127.0.0.1:9090";
            return null;
        }

        var colon = given.LastIndexOf(':');
        var bracketed = given.StartsWith('[');
        var wellFormed = colon > 0 && (bracketed ? given[colon - 1] == ']' : given.IndexOf(':', StringComparison.Ordinal) == colon);
        if (!wellFormed)
        {
            error = $"'{given}' is not ADDRESS:PORT; e.g. 127.0.0.1:9090, or [::1]:9090 for IPv6";
            return null;
        }

        var host = bracketed ? given[1..(colon - 1)] : given[..colon];
        var portText = given[(colon + 1)..];
        if (!IPAddress.TryParse(host, out var address))
        {
            error = $"'{host}' is not an IP address; a metrics listener binds an address, e.g. 127.0.0.1:{portText}";
            return null;
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            error = $"'{portText}' is not a port (1-65535)";
            return null;
        }

        return new IPEndPoint(address, port);
    }

    /// <summary>The endpoint, or <see cref="FormatException"/> naming <paramref name="source"/>.</summary>
    public static IPEndPoint Parse(string? text, string source) =>
        TryParse(text, out var error) ?? throw new FormatException($"{source}: {error}");
}
