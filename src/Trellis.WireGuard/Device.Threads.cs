using Trellis.Crypto;

namespace Trellis.WireGuard;

/// <summary>The device's threads and the preallocated batches and queues they share.</summary>
public sealed partial class Device
{
    private int _batchSize;
    private BatchPool _outFree = null!;
    private BatchPool _inFree = null!;
    private BlockingRing<HandshakeWork> _handshakeFree = null!;
    private BlockingRing<HandshakeWork> _handshakeQueue = null!;
    private OrderedPipeline? _outbound;
    private OrderedPipeline? _inbound;
    private Thread? _tunThread;
    private Thread? _receiveThread;
    private Thread? _handshakeThread;

    // Bytes allocated so far by the TUN reader, UDP receiver and handshake threads (for the allocation test).
    private readonly long[] _threadAllocated = new long[3];

    /// <summary>Bytes allocated so far by every thread of the data path.</summary>
    internal long DataPathAllocatedBytes =>
        Volatile.Read(ref _threadAllocated[0]) + Volatile.Read(ref _threadAllocated[1]) + Volatile.Read(ref _threadAllocated[2]) +
        (_outbound?.AllocatedBytes ?? 0) + (_inbound?.AllocatedBytes ?? 0);

    private void RecordAllocations(int slot) => Volatile.Write(ref _threadAllocated[slot], GC.GetAllocatedBytesForCurrentThread());

    /// <summary>
    /// Raised (once) when the TUN or the socket fails for good, e.g. the interface was deleted; the
    /// device stops moving packets in that direction and its owner should shut it down.
    /// </summary>
    public event Action<Exception>? Failed;

    private int _failed;

    private void ReportFailure(Exception e)
    {
        if (IsUp && Interlocked.Exchange(ref _failed, 1) == 0)
        {
            Failed?.Invoke(e);
        }
    }

    /// <summary>
    /// Creates, on a packet thread before it moves packets, the per-thread state the data path would
    /// otherwise create on first use: that first use can come mid-traffic (a thread that seals inline or
    /// arms a timer for the first time under load), and would allocate there.
    /// </summary>
    private static void PrepareThread()
    {
        ChaChaPolyContext.ForCurrentThread();
        _ = Random.Shared.Next(); // the timers' jitter: Random.Shared keeps its state per thread
    }

    private void InitPipelines()
    {
        _batchSize = Math.Max(1, Math.Min(Bind.BatchSize, Tun.BatchSize));
        _outFree = NewBatchPool();
        _inFree = NewBatchPool();
        _handshakeFree = new BlockingRing<HandshakeWork>(Constants.QueueHandshakeSize);
        _handshakeQueue = new BlockingRing<HandshakeWork>(Constants.QueueHandshakeSize);
        for (var i = 0; i < Constants.QueueHandshakeSize; i++)
        {
            _handshakeFree.TryAdd(new HandshakeWork());
        }
    }

    // One batch each way at first; more as traffic keeps batches in flight, fewer once it stops (see BatchPool).
    private BatchPool NewBatchPool() => new(_options.BatchesInFlight, _batchSize, initial: 1, _time);

    private void StartThreads()
    {
        var workers = Math.Max(1, _options.Workers);
        _outbound = new OrderedPipeline("wg seal", workers, _options.BatchesInFlight, SealBatch, SendBatch, PrepareThread);
        _inbound = new OrderedPipeline("wg open", workers, _options.BatchesInFlight, OpenBatch, WriteBatch, PrepareThread);
        _handshakeThread = new Thread(HandshakeLoop) { IsBackground = true, Name = "wg handshakes" };
        _handshakeThread.Start();
        _tunThread = new Thread(TunReadLoop) { IsBackground = true, Name = "wg tun reader" };
        _tunThread.Start();
        StartReceiveThread();
    }

    private void StartReceiveThread()
    {
        _receiveThread = new Thread(ReceiveLoop) { IsBackground = true, Name = "wg udp receiver" };
        _receiveThread.Start();
    }

    private void StopReceiveThread()
    {
        Bind.Close();
        _receiveThread?.Join();
        _receiveThread = null;
    }

    private void StopThreads()
    {
        Bind.Close();
        Tun.Close();
        _handshakeQueue.Close();
        _outFree.Close();
        _inFree.Close();
        _tunThread?.Join();
        _receiveThread?.Join();
        _handshakeThread?.Join();
        _outbound?.Dispose();
        _inbound?.Dispose();

        // Unmaps the batches: no thread is left to touch one.
        _outFree.Dispose();
        _inFree.Dispose();
    }
}
