using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>What is known of one candidate endpoint of a peer. Guarded by the peer's Sync.</summary>
internal sealed class PathInfo
{
    public bool FromMap { get; set; }

    public long LastPingSent { get; set; }

    /// <summary>When a pong last proved the path; zero while it never has.</summary>
    public long LastPong { get; set; }

    /// <summary>Our address the peer's pings and pongs from this endpoint last arrived at (the sticky source).</summary>
    public LocalAddress Local { get; set; }

    /// <summary>The round trip of the latest pong.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>The latest round trips; the path is judged on their least.</summary>
    public RttWindow Rtts { get; } = new();

    /// <summary>The peer's count of candidate sightings when this one was last named (map, ping, call-me-maybe).</summary>
    public long SeenOrder { get; set; }

    /// <summary>
    /// Which of two paths goes first when the peer has too many: the least recently proven (never
    /// proven before anything proven), then one only learned before one the map lists, then the
    /// one named longest ago. Anyone can replay a ping from new sources, but only the peer can
    /// prove a path, so unproven sources churn among themselves and never push out a proven one.
    /// </summary>
    public static bool EvictsBefore(PathInfo a, PathInfo b)
    {
        if (a.LastPong != b.LastPong)
        {
            return a.LastPong < b.LastPong;
        }

        if (a.FromMap != b.FromMap)
        {
            return !a.FromMap;
        }

        return a.SeenOrder < b.SeenOrder;
    }
}
