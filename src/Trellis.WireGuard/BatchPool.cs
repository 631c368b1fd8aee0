namespace Trellis.WireGuard;

/// <summary>
/// One direction's free batches, made as traffic first needs them instead of all at start. A batch is
/// <c>batchSize</c> pinned 64 KiB buffers, and even a buffer no packet ever reached costs a resident
/// page (the array's header), so eight idle batches per direction held 4 MiB each way; an idle or
/// lightly used device keeps one or two. A batch is only ever made off the packet threads (on the
/// thread pool), so the data path still allocates nothing; the packet thread that found none free
/// waits as it would at full depth, until the new one arrives or one comes back.
/// </summary>
internal sealed class BatchPool : IThreadPoolWorkItem
{
    private readonly BlockingRing<PacketBatch> _free;
    private readonly int _batchSize;

    // Written only by the one Execute running at a time (guarded by _growing).
    private int _created;
    private int _growing;

    /// <param name="capacity">Batches at most (those in flight included).</param>
    /// <param name="batchSize">Packets per batch.</param>
    /// <param name="initial">Batches made now.</param>
    public BatchPool(int capacity, int batchSize, int initial)
    {
        _free = new BlockingRing<PacketBatch>(capacity);
        _batchSize = batchSize;
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
            // This pool is the work item: queuing it allocates nothing on the packet thread.
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        return _free.Take(out batch);
    }

    /// <summary>Gives a batch back (false once closed).</summary>
    public bool TryAdd(PacketBatch batch) => _free.TryAdd(batch);

    public void Close() => _free.Close();

    /// <summary>Makes one batch (on a thread-pool thread).</summary>
    void IThreadPoolWorkItem.Execute()
    {
        try
        {
            if (_created < _free.Capacity && _free.TryAdd(new PacketBatch(_batchSize)))
            {
                Volatile.Write(ref _created, _created + 1);
            }
        }
        finally
        {
            Volatile.Write(ref _growing, 0);
        }
    }
}
