namespace Trellis.WireGuard;

/// <summary>
/// Spreads batches over worker threads (the crypto) and hands them, in submission order, to one
/// completion thread (the socket or TUN write). Order is kept across all peers, hence per peer;
/// the pool of batches bounds how much is in flight and gives back-pressure to the reader.
/// </summary>
internal sealed class OrderedPipeline : IDisposable
{
    private readonly BlockingRing<PacketBatch> _work;
    private readonly BlockingRing<PacketBatch> _order;
    private readonly Thread[] _workers;
    private readonly Thread _completer;
    private readonly Action<PacketBatch> _process;
    private readonly Action<PacketBatch> _complete;
    private readonly Action _prepareThread;

    // Bytes each thread (workers, then the completer) has allocated so far, for the allocation test.
    private readonly long[] _allocated;

    /// <param name="prepareThread">Run first on each of the pipeline's threads, to create per-thread state before traffic.</param>
    public OrderedPipeline(string name, int workers, int capacity, Action<PacketBatch> process, Action<PacketBatch> complete, Action prepareThread)
    {
        _process = process;
        _complete = complete;
        _prepareThread = prepareThread;
        _work = new BlockingRing<PacketBatch>(capacity);
        _order = new BlockingRing<PacketBatch>(capacity);
        _workers = new Thread[workers];
        _allocated = new long[workers + 1];
        for (var i = 0; i < workers; i++)
        {
            var slot = i;
            _workers[i] = new Thread(() => WorkLoop(slot)) { IsBackground = true, Name = $"{name} worker {i}" };
            _workers[i].Start();
        }

        _completer = new Thread(CompleteLoop) { IsBackground = true, Name = $"{name} completion" };
        _completer.Start();
    }

    /// <summary>Batches at most this big skip the threads when nothing else is in flight.</summary>
    public const int InlineBatchLimit = 2;

    // Batches submitted and not yet completed.
    private int _inFlight;

    /// <summary>
    /// Queues a batch, or, when the pipeline is empty and the batch tiny (a ping, an ACK), processes
    /// and completes it on the caller's thread: two thread hand-offs cost more than the crypto of a
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

        batch.Processed.Reset();
        if (!_order.Add(batch) || !_work.Add(batch))
        {
            batch.Processed.Set();
        }
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
                batch.Processed.Set();
                Volatile.Write(ref _allocated[slot], GC.GetAllocatedBytesForCurrentThread());
            }
        }
    }

    private void CompleteLoop()
    {
        _prepareThread();
        while (_order.Take(out var batch))
        {
            batch.Processed.Wait();
            _complete(batch);
            Interlocked.Decrement(ref _inFlight);
            Volatile.Write(ref _allocated[^1], GC.GetAllocatedBytesForCurrentThread());
        }
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

        _order.Close();
        _completer.Join();
    }
}
