namespace Trellis.WireGuard;

/// <summary>
/// One direction's free batches, made as traffic first needs them instead of all at start. A batch is
/// <c>batchSize</c> pinned 64 KiB buffers, and even a buffer no packet ever reached costs a resident
/// page (the array's header), so eight idle batches per direction held 4 MiB each way; an idle or
/// lightly used device keeps one or two. A batch is only ever made off the packet threads (by a timer
/// armed once per batch, whose callback runs on the thread pool: re-arming a timer allocates nothing,
/// where queuing work may grow the pool's queue), so the data path still allocates nothing; the packet
/// thread that found none free waits as it would at full depth, until the new one arrives or one comes back.
/// A burst (or a loaded machine, whose slow threads keep batches in flight longer) leaves batches that
/// later traffic never needs; so once per <see cref="Constants.BatchTrimInterval"/> the pool sets aside
/// the free ones beyond the most that were out at once in that interval (never below two: a reader
/// blocked in its read holds one) and gives all their pages back, so the daemon returns to its idle size.
/// A batch set aside is the first one made again: the next burst maps and allocates nothing new. Their
/// memory is unmapped when the pool is disposed, which must wait until no thread holds a batch.
/// </summary>
internal sealed class BatchPool : IDisposable
{
    private readonly BlockingRing<PacketBatch> _free;
    private readonly int _batchSize;
    private readonly Timer _grow;
    private readonly ITimer _trim;

    // Guarded by _madeLock, which only Grow, Trim and Dispose take (never a packet thread): every batch
    // made, those a trim set aside with their pages given back, and whether their memory is unmapped.
    private readonly Lock _madeLock = new();
    private readonly List<PacketBatch> _made;
    private readonly Stack<PacketBatch> _setAside;
    private bool _disposed;

    // Written only by the one Grow or Trim running at a time (guarded by _resizing).
    private int _created;
    private int _resizing;

    // Batches taken and not yet given back, and the most at once since the last trim.
    private int _out;
    private int _peakOut;

    /// <summary>Batches the pool keeps however quiet the device: the reader's and one to hand on.</summary>
    internal const int Kept = 2;

    /// <param name="capacity">Batches at most (those in flight included).</param>
    /// <param name="batchSize">Packets per batch.</param>
    /// <param name="initial">Batches made now.</param>
    /// <param name="time">The clock of the trim timer.</param>
    public BatchPool(int capacity, int batchSize, int initial, TimeProvider time)
    {
        _free = new BlockingRing<PacketBatch>(capacity);
        _batchSize = batchSize;
        _made = new List<PacketBatch>(capacity);
        _setAside = new Stack<PacketBatch>(capacity);
        _grow = new Timer(static pool => ((BatchPool)pool!).Grow(), this, Timeout.Infinite, Timeout.Infinite);
        _trim = time.CreateTimer(static pool => ((BatchPool)pool!).Trim(), this, Constants.BatchTrimInterval, Constants.BatchTrimInterval);
        for (var i = 0; i < Math.Min(initial, capacity); i++)
        {
            var batch = new PacketBatch(batchSize);
            _made.Add(batch);
            _free.TryAdd(batch);
            _created++;
        }
    }

    /// <summary>Batches the pool holds, free or out (not those a trim set aside).</summary>
    public int Created => Volatile.Read(ref _created);

    /// <summary>Takes a free batch, asking for one more if none is free; waits for one; false once closed.</summary>
    public bool Take(out PacketBatch batch)
    {
        if (!_free.TryTake(out batch))
        {
            if (Volatile.Read(ref _created) < _free.Capacity && Interlocked.CompareExchange(ref _resizing, 1, 0) == 0)
            {
                _grow.Change(0, Timeout.Infinite);
            }

            if (!_free.Take(out batch))
            {
                return false;
            }
        }

        // A racing taker may lower the peak it raises; a trim then keeps one batch fewer, and the next
        // shortage makes it again.
        var inUse = Interlocked.Increment(ref _out);
        if (inUse > Volatile.Read(ref _peakOut))
        {
            Volatile.Write(ref _peakOut, inUse);
        }

        return true;
    }

    /// <summary>Gives a batch back (false once closed).</summary>
    public bool TryAdd(PacketBatch batch)
    {
        Interlocked.Decrement(ref _out);
        return _free.TryAdd(batch);
    }

    public void Close() => _free.Close();

    /// <summary>Closes the pool and unmaps every batch it made: only once no thread holds one.</summary>
    public void Dispose()
    {
        _free.Close();
        _grow.Dispose();
        _trim.Dispose();
        lock (_madeLock)
        {
            _disposed = true;
            foreach (var batch in _made)
            {
                batch.Dispose();
            }

            _made.Clear();
            _setAside.Clear();
        }
    }

    /// <summary>Makes one batch (on a thread-pool thread).</summary>
    private void Grow()
    {
        PacketBatch? batch = null;
        try
        {
            lock (_madeLock)
            {
                if (_created < _free.Capacity && !_disposed)
                {
                    if (!_setAside.TryPop(out batch))
                    {
                        batch = new PacketBatch(_batchSize);
                        _made.Add(batch);
                    }

                    // Counted before it is free to take, so whoever takes it sees it counted.
                    Volatile.Write(ref _created, _created + 1);
                }
            }
        }
        finally
        {
            // Before the batch is free to take: whoever takes it may resize again at once.
            Volatile.Write(ref _resizing, 0);
        }

        if (batch is not null)
        {
            _free.TryAdd(batch); // false once closed: Dispose unmaps it with the rest
        }
    }

    /// <summary>Sets aside the batches the last interval did not need, pages given back (on a timer thread).</summary>
    private void Trim()
    {
        if (Interlocked.CompareExchange(ref _resizing, 1, 0) != 0)
        {
            return; // growing: this interval needed more, not fewer
        }

        try
        {
            var keep = Math.Max(Kept, Volatile.Read(ref _peakOut));
            lock (_madeLock)
            {
                while (!_disposed && _created > keep && _free.TryTake(out var idle))
                {
                    idle.Release();
                    _setAside.Push(idle);
                    Volatile.Write(ref _created, _created - 1);
                }
            }

            Volatile.Write(ref _peakOut, Volatile.Read(ref _out));
        }
        finally
        {
            Volatile.Write(ref _resizing, 0);
        }
    }
}
