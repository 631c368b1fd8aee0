using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>A direct path proven by a pong: the least round trip of its latest <paramref name="Samples"/> pongs.</summary>
public readonly record struct PathCandidate(Endpoint Endpoint, TimeSpan Latency, int Samples);

/// <summary>
/// Picks among proven direct paths. IPv6 wins unless IPv4 is clearly and consistently faster: both
/// judged on at least <see cref="MinSamples"/> pongs and IPv6's best over IPv4's * 1.5 + 10 ms (a
/// busy host delays pongs by tens of milliseconds; a real IPv6 detour costs more). The current path
/// is kept until another is clearly better: within a family for a fifth (and a millisecond) less;
/// back from IPv4 to IPv6 as soon as IPv4 is no longer faster by the narrower line (* 1.2 + 4 ms),
/// so a latency hovering between the two lines does not flip-flop.
/// </summary>
public static class PathChooser
{
    /// <summary>Pongs each family needs before IPv4 may win on speed: fewer may be one lucky or unlucky sample.</summary>
    public const int MinSamples = 4;

    private const double LeaveV6Factor = 1.5;
    private static readonly TimeSpan LeaveV6Slack = TimeSpan.FromMilliseconds(10);
    private const double KeepV4Factor = 1.2;
    private static readonly TimeSpan KeepV4Slack = TimeSpan.FromMilliseconds(4);
    private const double SameFamilyGain = 0.8;
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
            ({ } v6, { } v4) => V4Faster(v4, v6, LeaveV6Factor, LeaveV6Slack) ? v4 : v6,
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
            return pick.Latency < cur.Latency * SameFamilyGain && cur.Latency - pick.Latency >= MinGain ? pick : cur;
        }

        // IPv6 -> IPv4: the wide line above decided. IPv4 -> IPv6: IPv4 stays only while still clearly faster.
        return pick.Endpoint.IsIPv4 || !V4Faster(cur, pick, KeepV4Factor, KeepV4Slack) ? pick : cur;
    }

    private static bool V4Faster(in PathCandidate v4, in PathCandidate v6, double factor, TimeSpan slack) =>
        v4.Samples >= MinSamples && v6.Samples >= MinSamples && v6.Latency > (v4.Latency * factor) + slack;
}
