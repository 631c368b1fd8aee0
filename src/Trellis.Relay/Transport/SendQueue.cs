using System.Threading.Tasks.Sources;
using Trellis.Relay.Server;

namespace Trellis.Relay.Transport;

internal enum EnqueueResult
{
    Queued,
    QueuedDroppingOldest,
    DroppedNewest,
    Closed,
}

/// <summary>
/// One connection's outgoing frames: a bounded ring of packets (full: drop by policy, or let the
/// producer wait) and an unbounded-but-capped queue of control frames, which go first. Many
/// producers, one writer; the writer's wait is a reusable value-task source, so steady traffic
/// allocates nothing. The ring starts at <see cref="InitialRing"/> slots and doubles up to the
/// capacity the first times a burst needs it, so idle connections hold a small ring and busy ones
/// keep the large one. A byte limit beside the packet limit bounds what a slow reader can make the
/// relay hold when the frames are large. The queue owns every frame handed to it and returns those it drops.
/// </summary>
internal sealed class SendQueue : IValueTaskSource<bool>
{
    /// <summary>Control frames are rare; a watcher's initial presence dump is the most there can be at once.</summary>
    private const int MaxControlFrames = 1 << 20;

    /// <summary>Slots a new ring has: what an idle connection holds (16 bytes each).</summary>
    internal const int InitialRing = 32;

    private readonly Lock _gate = new();
    private readonly int _capacity;
    private readonly long _maxBytes;
    private readonly QueueFullMode _mode;

    // guarded by _gate: replaced by a larger one while the queue grows to _capacity
    private OutFrame[] _ring;
    private Queue<OutFrame>? _control;
    private int _head;
    private int _count;
    private long _bytes;
    private bool _completed;
    private bool _readerWaiting;
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };
    private TaskCompletionSource? _space;

    /// <param name="maxBytes">Packet bytes the queue holds at most (one frame always fits).</param>
    public SendQueue(int capacity, QueueFullMode mode, long maxBytes = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        _capacity = capacity;
        _maxBytes = maxBytes;
        _ring = new OutFrame[Math.Min(capacity, InitialRing)];
        _mode = mode;
    }

    public bool IsEmpty
    {
        get
        {
            lock (_gate)
            {
                return _count == 0 && (_control is null || _control.Count == 0);
            }
        }
    }

    /// <summary>Queues a packet frame without waiting; a full queue drops by the mode.</summary>
    /// <param name="deferWake">
    /// Leave a waiting writer asleep: the caller queues more and calls <see cref="Wake"/> once after.
    /// A queue half full wakes its writer regardless, so a burst longer than the queue is written
    /// while it arrives rather than dropped.
    /// </param>
    public EnqueueResult TryEnqueue(OutFrame frame, bool deferWake = false)
    {
        OutFrame dropped = default;
        EnqueueResult result;
        bool wake;
        lock (_gate)
        {
            if (_completed)
            {
                result = EnqueueResult.Closed;
                dropped = frame;
                wake = false;
            }
            else if (MakeRoomLocked(frame.Length))
            {
                AddLocked(frame);
                result = EnqueueResult.Queued;
                wake = (!deferWake || _count * 2 >= _capacity || _bytes * 2 >= _maxBytes) && TakeReader();
            }
            else if (_mode == QueueFullMode.DropOldest)
            {
                do
                {
                    RemoveHeadLocked().Return();
                }
                while (!MakeRoomLocked(frame.Length));

                AddLocked(frame);
                result = EnqueueResult.QueuedDroppingOldest;
                wake = TakeReader();
            }
            else
            {
                dropped = frame;
                result = EnqueueResult.DroppedNewest;
                wake = false;
            }
        }

        dropped.Return();
        if (wake)
        {
            _signal.SetResult(true);
        }

        return result;
    }

    /// <summary>
    /// Like <see cref="TryEnqueue"/>, but a full queue is first waited on, blocking the caller for up to
    /// <paramref name="waitForRoom"/> (a full queue has its writer awake: the half-full wake saw to
    /// it): back-pressure from the connection reaches a producer that can wait, as a full socket buffer would.
    /// </summary>
    public EnqueueResult TryEnqueue(OutFrame frame, bool deferWake, TimeSpan waitForRoom)
    {
        Task? space = null;
        lock (_gate)
        {
            if (!_completed && IsFullLocked(frame.Length) && waitForRoom > TimeSpan.Zero)
            {
                _space ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                space = _space.Task;
            }
        }

        space?.Wait(waitForRoom);

        return TryEnqueue(frame, deferWake);
    }

    /// <summary>Wakes the writer if it waits while frames are queued (after <see cref="TryEnqueue"/> with deferWake).</summary>
    public void Wake()
    {
        bool wake;
        lock (_gate)
        {
            wake = _count > 0 && TakeReader();
        }

        if (wake)
        {
            _signal.SetResult(true);
        }
    }

    /// <summary>Queues a packet frame, waiting while the queue is full; false when the queue closed.</summary>
    public ValueTask<bool> EnqueueAsync(OutFrame frame, CancellationToken cancellationToken)
    {
        var result = TryEnqueueOrWait(frame, out var space);
        return space is null ? new ValueTask<bool>(result) : EnqueueSlowAsync(frame, space, cancellationToken);
    }

    private async ValueTask<bool> EnqueueSlowAsync(OutFrame frame, Task space, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await space.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                frame.Return();
                throw;
            }

            var result = TryEnqueueOrWait(frame, out var next);
            if (next is null)
            {
                return result;
            }

            space = next;
        }
    }

    private bool TryEnqueueOrWait(OutFrame frame, out Task? space)
    {
        bool wake;
        lock (_gate)
        {
            space = null;
            if (_completed)
            {
                frame.Return();
                return false;
            }

            if (!MakeRoomLocked(frame.Length))
            {
                _space ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                space = _space.Task;
                return false;
            }

            AddLocked(frame);
            wake = TakeReader();
        }

        if (wake)
        {
            _signal.SetResult(true);
        }

        return true;
    }

    /// <summary>Queues a control frame ahead of packets; false (and the frame dropped) when closed or flooded.</summary>
    public bool EnqueueControl(OutFrame frame)
    {
        bool wake;
        lock (_gate)
        {
            _control ??= new Queue<OutFrame>();
            if (_completed || _control.Count >= MaxControlFrames)
            {
                frame.Return();
                return false;
            }

            _control.Enqueue(frame);
            wake = TakeReader();
        }

        if (wake)
        {
            _signal.SetResult(true);
        }

        return true;
    }

    public bool TryDequeue(out OutFrame frame)
    {
        TaskCompletionSource? space = null;
        lock (_gate)
        {
            if (_control is { Count: > 0 })
            {
                frame = _control.Dequeue();
                return true;
            }

            if (_count == 0)
            {
                frame = default;
                return false;
            }

            frame = RemoveHeadLocked();
            (space, _space) = (_space, null);
        }

        space?.TrySetResult();
        return true;
    }

    /// <summary>The writer's wait: true when there is something to write, false once completed and drained.</summary>
    public ValueTask<bool> WaitToReadAsync()
    {
        lock (_gate)
        {
            if (_count > 0 || _control is { Count: > 0 })
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            _signal.Reset();
            _readerWaiting = true;
            return new ValueTask<bool>(this, _signal.Version);
        }
    }

    /// <summary>No more frames are accepted; the writer drains what is queued and stops.</summary>
    public void Complete()
    {
        TaskCompletionSource? space;
        bool wake;
        lock (_gate)
        {
            _completed = true;
            wake = TakeReader();
            (space, _space) = (_space, null);
        }

        space?.TrySetResult();
        if (wake)
        {
            _signal.SetResult(true);
        }
    }

    /// <summary>Completes the queue and returns every frame still in it (after the writer stopped).</summary>
    public void DrainAndReturn()
    {
        Complete();
        while (TryDequeue(out var frame))
        {
            frame.Return();
        }
    }

    /// <summary>Whether a frame of <paramref name="length"/> bytes fits, growing the ring if it must; one frame always fits.</summary>
    private bool MakeRoomLocked(int length) =>
        (_count == 0 || _bytes + length <= _maxBytes) && (_count < _ring.Length || GrowLocked());

    /// <summary>Whether a frame of <paramref name="length"/> bytes would find the queue full (in packets or bytes).</summary>
    private bool IsFullLocked(int length) =>
        _count > 0 && (_bytes + length > _maxBytes || (_count == _ring.Length && _ring.Length >= _capacity));

    private void AddLocked(OutFrame frame)
    {
        _ring[(_head + _count) % _ring.Length] = frame;
        _count++;
        _bytes += frame.Length;
    }

    private OutFrame RemoveHeadLocked()
    {
        var frame = _ring[_head];
        _ring[_head] = default;
        _head = (_head + 1) % _ring.Length;
        _count--;
        _bytes -= frame.Length;
        return frame;
    }

    /// <summary>Doubles a full ring, up to the capacity, keeping the frames in order; false when at capacity.</summary>
    private bool GrowLocked()
    {
        if (_ring.Length >= _capacity)
        {
            return false;
        }

        var larger = new OutFrame[Math.Min(_capacity, _ring.Length * 2)];
        for (var i = 0; i < _count; i++)
        {
            larger[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = larger;
        _head = 0;
        return true;
    }

    private bool TakeReader()
    {
        var waiting = _readerWaiting;
        _readerWaiting = false;
        return waiting;
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _signal.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _signal.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _signal.OnCompleted(continuation, state, token, flags);
}
