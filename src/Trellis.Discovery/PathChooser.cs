using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>A direct path proven by a pong, with the round trip of its latest one.</summary>
public readonly record struct PathCandidate(Endpoint Endpoint, TimeSpan Latency);

/// <summary>
/// Picks among proven direct paths. IPv6 wins over IPv4 unless IPv4 is clearly faster
/// (v6 > v4 * 1.5 + 5 ms); the current path is kept until another is clearly better, with a
/// wider margin to switch back to IPv6 so a latency hovering at the line does not flip-flop.
/// </summary>
public static class PathChooser
{
    private static readonly TimeSpan V6Slack = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan BackToV6Slack = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan MinGain = TimeSpan.FromMilliseconds(1);

    public static PathCandidate? Choose(Endpoint? current, ReadOnlySpan<PathCandidate> candidates)
    {
        PathCandidate? best4 = null, best6 = null, now = null;
        foreach (var c in candidates)
        {
            if (c.Endpoint.IsIPv4)
            {
                best4 = best4 is { } b4 && b4.Latency <= c.Latency ? b4 : c;
            }
            else
            {
                best6 = best6 is { } b6 && b6.Latency <= c.Latency ? b6 : c;
            }

            if (current == c.Endpoint)
            {
                now = c;
            }
        }

        var preferred = (best6, best4) switch
        {
            ({ } v6, { } v4) => v6.Latency > (v4.Latency * 1.5) + V6Slack ? v4 : v6,
            ({ } v6, null) => v6,
            (null, { } v4) => v4,
            _ => (PathCandidate?)null,
        };

        if (now is not { } cur || preferred is not { } pick || pick.Endpoint == cur.Endpoint)
        {
            return preferred;
        }

        if (cur.Endpoint.IsIPv4 == pick.Endpoint.IsIPv4)
        {
            // Same family: switch only for a real gain (a fifth, at least a millisecond).
            return pick.Latency < cur.Latency * 0.8 && cur.Latency - pick.Latency >= MinGain ? pick : cur;
        }

        // IPv4 -> IPv6 needs IPv6 comfortably inside the line; IPv6 -> IPv4 the rule above already decided.
        return pick.Endpoint.IsIPv4 || pick.Latency <= (cur.Latency * 1.2) + BackToV6Slack ? pick : cur;
    }
}
