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

    /// <summary>Bytes of memory the collector has committed from the operating system.</summary>
    public required long GcCommittedBytes { get; init; }

    /// <summary>Collections so far (every generation).</summary>
    public required int GcCollections { get; init; }

    public static StatusMemory Now()
    {
        var info = GC.GetGCMemoryInfo();
        return new StatusMemory
        {
            GcHeapBytes = info.HeapSizeBytes,
            GcCommittedBytes = info.TotalCommittedBytes,
            GcCollections = GC.CollectionCount(0),
        };
    }
}
