using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Trellis.Control.Store;

/// <summary>Endpoint lists as nodes report them: "ip:port" (IPv6 in brackets), canonical and bounded.</summary>
public static class EndpointLists
{
    /// <summary>Generous for multi-homed hosts, small enough that a hostile node cannot bloat its row.</summary>
    public const int MaxEndpointsPerNode = 64;

    public static bool TryNormalize(IEnumerable<string>? endpoints, [NotNullWhen(true)] out List<string>? normalized, [NotNullWhen(false)] out string? error)
    {
        normalized = [];
        foreach (var text in endpoints ?? [])
        {
            if (text is null || !IPEndPoint.TryParse(text, out var endpoint) || endpoint.Port == 0)
            {
                normalized = null;
                error = $"invalid endpoint '{text}': expected ip:port, with IPv6 in brackets";
                return false;
            }

            var canonical = endpoint.ToString();
            if (!normalized.Contains(canonical))
            {
                normalized.Add(canonical);
            }

            if (normalized.Count > MaxEndpointsPerNode)
            {
                normalized = null;
                error = $"too many endpoints: at most {MaxEndpointsPerNode}";
                return false;
            }
        }

        error = null;
        return true;
    }
}
