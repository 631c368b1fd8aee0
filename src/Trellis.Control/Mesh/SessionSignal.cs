using System.Threading.Tasks.Sources;

namespace Trellis.Control.Mesh;

/// <summary>
/// The wake-up of one session's pump: set from any thread, awaited by the one pump, with a timeout for
/// the keepalive. One instance serves every wait, so a wait allocates no task, timer or cancellation
/// callback. In a join storm thousands of pumps wait between deltas, and a semaphore wait with a
/// timeout allocated about 0.5 KB each time that lived until the next delta: long enough to be promoted
/// and die in gen2 (docs/BENCHMARKS.md). A wake-up that nobody waits for is kept for the next wait.
/// </summary>
internal sealed class SessionSignal : IValueTaskSource<bool>, IDisposable
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancel;

    // guarded by _lock
    private bool _set;
    private bool _waiting;
    private long _waitStarted;
    private TimeSpan _timeout;

    public SessionSignal(TimeProvider time)
    {
        _time = time;
        _timer = time.CreateTimer(static state => ((SessionSignal)state!).TimedOut(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Wakes the waiting pump, or the next wait if none is waiting.</summary>
    public void Set()
    {
        lock (_lock)
        {
            if (!_waiting)
            {
                _set = true;
                return;
            }

            _waiting = false;
            _core.SetResult(true);
        }
    }

    /// <summary>True when set; false after <paramref name="timeout"/> without a wake-up. One waiter at a time.</summary>
    public ValueTask<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        short version;
        lock (_lock)
        {
            if (_set)
            {
                _set = false;
                return new ValueTask<bool>(true);
            }

            if (_waiting)
            {
                throw new InvalidOperationException("a session signal has one waiter at a time");
            }

            _core.Reset();
            version = _core.Version;
            _waiting = true;
            _waitStarted = _time.GetTimestamp();
            _timeout = timeout;
        }

        // Outside the lock: an already cancelled token runs the callback here, which takes the lock.
        _cancel = cancellationToken.UnsafeRegister(static (state, token) => ((SessionSignal)state!).Cancelled(token), this);
        _timer.Change(timeout, Timeout.InfiniteTimeSpan);
        return new ValueTask<bool>(this, version);
    }

    private void TimedOut()
    {
        lock (_lock)
        {
            if (!_waiting)
            {
                return;
            }

            // A timer armed for an earlier wait may fire late, and the timer's coarse clock may fire a
            // little before this wait's own timeout by the finer one: then wait out the rest.
            var remaining = _timeout - _time.GetElapsedTime(_waitStarted);
            if (remaining > TimeSpan.Zero)
            {
                _timer.Change(remaining, Timeout.InfiniteTimeSpan);
                return;
            }

            _waiting = false;
            _core.SetResult(false);
        }
    }

    private void Cancelled(CancellationToken token)
    {
        lock (_lock)
        {
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
            _core.SetException(new OperationCanceledException(token));
        }
    }

    public bool GetResult(short token)
    {
        _cancel.Dispose();
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return _core.GetResult(token);
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public void Dispose()
    {
        _cancel.Dispose();
        _timer.Dispose();
    }
}
