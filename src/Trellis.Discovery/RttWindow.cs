namespace Trellis.Discovery;

/// <summary>
/// The latest round trips of one path, in a fixed ring (allocated once with the path): a single
/// pong under load can be tens of milliseconds late, so paths are compared on the least of several
/// samples, which only the path itself limits. The ring is short so that two paths are judged on
/// pongs of about the same moments (a prompt re-probe pings them all together); a long one would
/// set a path's quiet past against another's busy present. Not thread-safe: the peer's Sync guards it.
/// </summary>
internal sealed class RttWindow
{
    /// <summary>Samples kept: a prompt re-probe's worth (its first round and 4 more), the heartbeats of 15 s on a chosen path.</summary>
    public const int Size = 5;

    private readonly TimeSpan[] _samples = new TimeSpan[Size];
    private int _next;

    /// <summary>Samples held, at most <see cref="Size"/>.</summary>
    public int Count { get; private set; }

    /// <summary>The least round trip held; zero while there is none.</summary>
    public TimeSpan Min { get; private set; }

    public void Add(TimeSpan rtt)
    {
        _samples[_next] = rtt;
        _next = (_next + 1) % Size;
        Count = Math.Min(Count + 1, Size);
        var min = TimeSpan.MaxValue;
        for (var i = 0; i < Count; i++)
        {
            min = _samples[i] < min ? _samples[i] : min;
        }

        Min = min;
    }
}
