using Trellis.Core.Control;

namespace Trellis.Node.Control;

/// <summary>One plain WireGuard peer this node serves as gateway, and its latest handshake with it (null: none yet).</summary>
public readonly record struct PlainPeerSighting(long Id, DateTimeOffset? LastHandshake);

/// <summary>
/// What a gateway tells the server about its plain peers, and whether it is news: a report goes out
/// when a peer had a new handshake, crossed <see cref="PlainPeerPresence.OnlineWindow"/>, came or went,
/// never merely because time passed. Pure, so the rule is unit-tested without a clock.
/// </summary>
public static class PlainPeerSightings
{
    /// <summary>What the server would conclude from these sightings at <paramref name="now"/>: the thing to compare with what it last heard.</summary>
    public static IReadOnlyList<(long Id, DateTimeOffset? LastHandshake, bool Online)> Gist(IReadOnlyList<PlainPeerSighting> sightings, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(sightings);
        return [.. sightings.OrderBy(s => s.Id).Select(s => (s.Id, s.LastHandshake, PlainPeerPresence.IsOnline(AgeSeconds(s.LastHandshake, now))))];
    }

    public static PlainPeerReport Report(IReadOnlyList<PlainPeerSighting> sightings, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(sightings);
        return new PlainPeerReport { Peers = [.. sightings.OrderBy(s => s.Id).Select(s => new PlainPeerHandshake { Id = s.Id, AgeSeconds = AgeSeconds(s.LastHandshake, now) })] };
    }

    /// <summary>Whole seconds since the handshake; a handshake "in the future" (the clock stepped back) is fresh.</summary>
    private static long? AgeSeconds(DateTimeOffset? handshake, DateTimeOffset now) =>
        handshake is { } at ? Math.Max(0, (long)(now - at).TotalSeconds) : null;
}
