namespace Trellis.Node.Daemon;

/// <summary>
/// Keeps a long-running daemon's heap near what it holds alive. The collector runs a full collection only
/// when gen2's budget fills; with the daemon's small gen0 budget (2 MiB, for a small resident set) the
/// short-lived objects of its periodic work (heartbeats, status reads, map deltas) are promoted before they
/// die, so an idle daemon's heap and resident memory crept for an hour without a leak (docs/BENCHMARKS.md,
/// "Soak"). Go's runtime, which the other mesh clients run on, forces a collection every two minutes for
/// the same reason. Every <see cref="CheckEvery"/> this compares the heap with the live objects the latest
/// full collection left and runs one (compacting, so the free space a sweeping one left goes too) when the
/// difference is over <see cref="MinSlackBytes"/> and an eighth of them: a few percent of a small daemon's
/// resident set, and rare on a large heap, whose allowed slack grows in proportion.
/// </summary>
public sealed class HeapSlackCollector : IDisposable
{
    public static readonly TimeSpan CheckEvery = TimeSpan.FromMinutes(2);
    public const long MinSlackBytes = 1024 * 1024;

    private readonly Func<HeapReading> _read;
    private readonly Action _collect;
    private readonly ITimer _timer;
    private long _collections;

    /// <param name="read">The heap now and after the latest full collection.</param>
    /// <param name="collect">Runs a full compacting collection.</param>
    public HeapSlackCollector(TimeProvider time, Func<HeapReading> read, Action collect)
    {
        ArgumentNullException.ThrowIfNull(time);
        _read = read ?? throw new ArgumentNullException(nameof(read));
        _collect = collect ?? throw new ArgumentNullException(nameof(collect));
        _timer = time.CreateTimer(_ => Check(), null, CheckEvery, CheckEvery);
    }

    /// <summary>Full collections this ran.</summary>
    public long Collections => Interlocked.Read(ref _collections);

    /// <summary>The runtime's own figures, and a full compacting collection.</summary>
    public static HeapSlackCollector ForThisProcess(TimeProvider time) =>
        new(time, HeapReading.Now, static () => GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true));

    /// <summary>True when the heap has grown past the live objects of the latest full collection by more than the slack allowed (none yet: true).</summary>
    public static bool SlackExceeded(HeapReading reading)
    {
        if (reading.LiveAfterFullBytes <= 0)
        {
            return true;
        }

        var slack = reading.HeapBytes - reading.LiveAfterFullBytes;
        return slack > Math.Max(MinSlackBytes, reading.LiveAfterFullBytes / 8);
    }

    private void Check()
    {
        if (SlackExceeded(_read()))
        {
            _collect();
            Interlocked.Increment(ref _collections);
        }
    }

    public void Dispose() => _timer.Dispose();
}

/// <summary>The managed heap after the latest collection, and the live objects the latest full one left (0: none yet).</summary>
public readonly record struct HeapReading(long HeapBytes, long LiveAfterFullBytes)
{
    public static HeapReading Now()
    {
        var memory = LocalApi.StatusMemory.Now();
        return new HeapReading(memory.GcHeapBytes, memory.GcLiveAfterFullBytes);
    }
}
