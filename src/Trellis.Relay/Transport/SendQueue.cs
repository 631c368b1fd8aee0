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
/// allocates nothing. The queue owns every frame handed to it and returns those it drops.
/// </summary>
internal sealed class SendQueue : IValueTaskSource<bool>
{
    /// <summary>Control frames are rare; a watcher's initial presence dump is the most there can be at once.</summary>
    private const int MaxControlFrames = 1 << 20;

    private readonly Lock _gate = new();
    private readonly OutFrame[] _ring;
    private readonly QueueFullMode _mode;
    private Queue<OutFrame>? _control;
    private int _head;
    private int _count;
    private bool _completed;
    private bool _readerWaiting;
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };
    private TaskCompletionSource? _space;

    public SendQueue(int capacity, QueueFullMode mode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new OutFrame[capacity];
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
            else if (_count < _ring.Length)
            {
                _ring[(_head + _count) % _ring.Length] = frame;
                _count++;
                result = EnqueueResult.Queued;
                wake = (!deferWake || _count * 2 >= _ring.Length) && TakeReader();
            }
            else if (_mode == QueueFullMode.DropOldest)
            {
                dropped = _ring[_head];
                _ring[_head] = frame;
                _head = (_head + 1) % _ring.Length;
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

            if (_count == _ring.Length)
            {
                _space ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                space = _space.Task;
                return false;
            }

            _ring[(_head + _count) % _ring.Length] = frame;
            _count++;
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

            frame = _ring[_head];
            _ring[_head] = default;
            _head = (_head + 1) % _ring.Length;
            _count--;
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
