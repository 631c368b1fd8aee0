namespace Trellis.WireGuard;

/// <summary>
/// Spreads batches over worker threads (the crypto) and completes them (the socket or TUN write) in
/// submission order. Order is kept across all peers, hence per peer; the pool of batches bounds how
/// much is in flight and gives back-pressure to the submitter.
/// </summary>
/// <remarks>
/// The worker that finishes the batch next in order completes it, and then every later batch already
/// finished, one worker at a time. A completion thread of its own cost each batch one more wake-up
/// and a move of its packets to another core's cache (docs/BENCHMARKS.md, the pair's cycles).
/// </remarks>
internal sealed class OrderedPipeline : IDisposable
{
    private readonly BlockingRing<PacketBatch> _work;
    private readonly Thread[] _workers;
    private readonly Action<PacketBatch> _process;
    private readonly Action<PacketBatch> _complete;
    private readonly Action _prepareThread;

    // Batches by sequence number modulo the capacity: the pool never has more in flight than that.
    private readonly PacketBatch?[] _slots;

    // Written only by the one submitter.
    private long _submitted;

    // Written only by the worker holding _completing, which is 1 while a worker completes.
    private long _nextComplete;
    private int _completing;

    // Bytes each worker has allocated so far, for the allocation test.
    private readonly long[] _allocated;

    /// <param name="prepareThread">Run first on each of the pipeline's threads, to create per-thread state before traffic.</param>
    public OrderedPipeline(string name, int workers, int capacity, Action<PacketBatch> process, Action<PacketBatch> complete, Action prepareThread)
    {
        _process = process;
        _complete = complete;
        _prepareThread = prepareThread;
        _work = new BlockingRing<PacketBatch>(capacity);
        _slots = new PacketBatch?[capacity];
        _workers = new Thread[workers];
        _allocated = new long[workers];
        for (var i = 0; i < workers; i++)
        {
            var slot = i;
            _workers[i] = new Thread(() => WorkLoop(slot)) { IsBackground = true, Name = $"{name} worker {i}" };
            _workers[i].Start();
        }
    }

    /// <summary>Batches at most this big skip the threads when nothing else is in flight.</summary>
    public const int InlineBatchLimit = 2;

    // Batches submitted and not yet completed.
    private int _inFlight;

    /// <summary>
    /// Queues a batch, or, when the pipeline is empty and the batch tiny (a ping, an ACK), processes
    /// and completes it on the caller's thread: a thread hand-off costs more than the crypto of a
    /// packet. Order holds because nothing else is in flight and the caller is the only submitter.
    /// </summary>
    public void Submit(PacketBatch batch)
    {
        if (Interlocked.Increment(ref _inFlight) == 1 && batch.Count <= InlineBatchLimit)
        {
            try
            {
                _process(batch);
                _complete(batch);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }

            return;
        }

        batch.Finished = false;
        Volatile.Write(ref _slots[_submitted++ % _slots.Length], batch);
        _work.Add(batch); // false once closed: the device is stopping, and its pool unmaps the batch
    }

    private void WorkLoop(int slot)
    {
        _prepareThread();
        while (_work.Take(out var batch))
        {
            try
            {
                _process(batch);
            }
            finally
            {
                Volatile.Write(ref batch.Finished, true);
                CompleteInOrder();
                Volatile.Write(ref _allocated[slot], GC.GetAllocatedBytesForCurrentThread());
            }
        }
    }

    /// <summary>Completes the finished batches at the head of the order, unless another worker is at it.</summary>
    private void CompleteInOrder()
    {
        while (Interlocked.CompareExchange(ref _completing, 1, 0) == 0)
        {
            PacketBatch? next;
            while ((next = FinishedHead()) is not null)
            {
                // The slot is free before the batch goes back to its pool and may be submitted again.
                _slots[_nextComplete % _slots.Length] = null;
                _nextComplete++;
                _complete(next);
                Interlocked.Decrement(ref _inFlight);
            }

            // A full fence, as is the other worker's failed exchange after it marked its batch finished:
            // if it found this worker completing, this look after the release sees its batch.
            Interlocked.Exchange(ref _completing, 0);
            if (FinishedHead() is null)
            {
                return;
            }
        }
    }

    private PacketBatch? FinishedHead()
    {
        var head = Volatile.Read(ref _slots[Volatile.Read(ref _nextComplete) % _slots.Length]);
        return head is not null && Volatile.Read(ref head.Finished) ? head : null;
    }

    /// <summary>Bytes allocated so far by this pipeline's threads.</summary>
    public long AllocatedBytes
    {
        get
        {
            var sum = 0L;
            for (var i = 0; i < _allocated.Length; i++)
            {
                sum += Volatile.Read(ref _allocated[i]);
            }

            return sum;
        }
    }

    public void Dispose()
    {
        _work.Close();
        foreach (var w in _workers)
        {
            w.Join();
        }
    }
}
