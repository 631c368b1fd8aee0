namespace Trellis.Node.LocalApi;

/// <summary>
/// The daemon's managed memory as the runtime's collector sees it (GC.GetGCMemoryInfo): what a soak or
/// an operator watches for growth, read the same way whether the daemon runs JIT or NativeAOT (which
/// has no diagnostics port for outside tools).
/// </summary>
public sealed record StatusMemory
{
    /// <summary>Bytes the managed heap held after the latest collection (live objects plus fragmentation).</summary>
    public required long GcHeapBytes { get; init; }

    /// <summary>
    /// Bytes of live objects the latest full collection left (its heap less the free space between
    /// objects; 0 before the first): dead objects promoted to gen2 are counted in <see cref="GcHeapBytes"/>
    /// until a full collection frees them, and one that sweeps without compacting leaves their room as
    /// free space, so this is the figure that tells a leak from the collector's slack.
    /// </summary>
    public required long GcLiveAfterFullBytes { get; init; }

    /// <summary>Bytes of memory the collector has committed from the operating system.</summary>
    public required long GcCommittedBytes { get; init; }

    /// <summary>Collections so far (every generation).</summary>
    public required int GcCollections { get; init; }

    /// <summary>Full (gen2) collections so far.</summary>
    public required int GcFullCollections { get; init; }

    /// <summary>The latest gen2 collection, blocking or background (a JIT-run daemon may collect gen2 concurrently).</summary>
    private static GCMemoryInfo LatestFull()
    {
        var blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        var background = GC.GetGCMemoryInfo(GCKind.Background);
        return background.Index > blocking.Index ? background : blocking;
    }

    private static long LiveAfter(GCMemoryInfo full) => full.Index == 0 ? 0 : full.HeapSizeBytes - full.FragmentedBytes;

    public static StatusMemory Now()
    {
        var info = GC.GetGCMemoryInfo();
        return new StatusMemory
        {
            GcHeapBytes = info.HeapSizeBytes,
            GcLiveAfterFullBytes = LiveAfter(LatestFull()),
            GcCommittedBytes = info.TotalCommittedBytes,
            GcCollections = GC.CollectionCount(0),
            GcFullCollections = GC.CollectionCount(2),
        };
    }
}
