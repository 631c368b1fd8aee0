namespace Trellis.Node.Control;

/// <summary>
/// The control server's URLs as `up --server` takes them: one URL, or the URLs of several replicas
/// of one server (one database, one server key) separated by commas. Kept as that text in the
/// preferences; the client dials the first and moves to the next when a connection fails.
/// </summary>
public static class ControlServers
{
    public const char Separator = ',';

    /// <summary>At most this many replicas: a longer list is more likely a mistake than a deployment.</summary>
    public const int MaxServers = 16;

    /// <summary>The URLs in order, or why the text is not a list of http(s) URLs (said of the option: "must be ...").</summary>
    public static (IReadOnlyList<Uri>? Servers, string? Problem) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(Separator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            return (null, "must be the control server's URL (trellis up --server https://...)");
        }

        if (parts.Length > MaxServers)
        {
            return (null, $"must name at most {MaxServers} replicas' URLs, got {parts.Length}");
        }

        var servers = new List<Uri>(parts.Length);
        foreach (var part in parts)
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Host.Length == 0)
            {
                return (null, $"must be an http:// or https:// URL (or several replicas' URLs separated by commas), got '{part}'");
            }

            if (!servers.Contains(url))
            {
                servers.Add(url);
            }
        }

        return (servers, null);
    }

    /// <summary>The list as the preferences keep it: each URL in its canonical form, comma-separated.</summary>
    public static string Join(IEnumerable<Uri> servers) => string.Join(Separator, servers.Select(s => s.AbsoluteUri));
}
