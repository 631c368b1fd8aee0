namespace Trellis.WireGuard;

/// <summary>
/// One direction's free batches, made as traffic first needs them instead of all at start. A batch is
/// <c>batchSize</c> pinned 64 KiB buffers, and even a buffer no packet ever reached costs a resident
/// page (the array's header), so eight idle batches per direction held 4 MiB each way; an idle or
/// lightly used device keeps one or two. A batch is only ever made off the packet threads (by a timer
/// armed once per batch, whose callback runs on the thread pool: re-arming a timer allocates nothing,
/// where queuing work may grow the pool's queue), so the data path still allocates nothing; the packet
/// thread that found none free waits as it would at full depth, until the new one arrives or one comes back.
/// </summary>
internal sealed class BatchPool : IDisposable
{
    private readonly BlockingRing<PacketBatch> _free;
    private readonly int _batchSize;
    private readonly Timer _grow;

    // Written only by the one Grow running at a time (guarded by _growing).
    private int _created;
    private int _growing;

    /// <param name="capacity">Batches at most (those in flight included).</param>
    /// <param name="batchSize">Packets per batch.</param>
    /// <param name="initial">Batches made now.</param>
    public BatchPool(int capacity, int batchSize, int initial)
    {
        _free = new BlockingRing<PacketBatch>(capacity);
        _batchSize = batchSize;
        _grow = new Timer(static pool => ((BatchPool)pool!).Grow(), this, Timeout.Infinite, Timeout.Infinite);
        for (var i = 0; i < Math.Min(initial, capacity); i++)
        {
            _free.TryAdd(new PacketBatch(batchSize));
            _created++;
        }
    }

    /// <summary>Batches made so far.</summary>
    public int Created => Volatile.Read(ref _created);

    /// <summary>Takes a free batch, asking for one more if none is free; waits for one; false once closed.</summary>
    public bool Take(out PacketBatch batch)
    {
        if (_free.TryTake(out batch))
        {
            return true;
        }

        if (Volatile.Read(ref _created) < _free.Capacity && Interlocked.CompareExchange(ref _growing, 1, 0) == 0)
        {
            _grow.Change(0, Timeout.Infinite);
        }

        return _free.Take(out batch);
    }

    /// <summary>Gives a batch back (false once closed).</summary>
    public bool TryAdd(PacketBatch batch) => _free.TryAdd(batch);

    public void Close() => _free.Close();

    public void Dispose()
    {
        _free.Close();
        _grow.Dispose();
    }

    /// <summary>Makes one batch (on a thread-pool thread).</summary>
    private void Grow()
    {
        try
        {
            if (_created < _free.Capacity)
            {
                // Counted before it is free to take, so whoever takes it sees it counted.
                var batch = new PacketBatch(_batchSize);
                Volatile.Write(ref _created, _created + 1);
                _free.TryAdd(batch); // false once closed: the batch is dropped
            }
        }
        finally
        {
            Volatile.Write(ref _growing, 0);
        }
    }
}
