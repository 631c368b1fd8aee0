namespace Trellis.WireGuard;

/// <summary>
/// One re-armable protocol timer on a <see cref="TimeProvider"/>, with the "is it pending" question
/// the protocol's rules ask (several events arm a timer only when it is not already running).
/// </summary>
internal sealed class PeerTimer : IDisposable
{
    // Armed and disarmed by the packet threads of both directions. A Monitor, not a Lock, as Peer's data-path locks are (see there).
    private readonly object _lock = new();
    private readonly Action _handler;
    private readonly ITimer _timer;

    // guarded by _lock
    private bool _pending;
    private bool _disposed;

    public PeerTimer(TimeProvider time, Action handler)
    {
        _handler = handler;
        _timer = time.CreateTimer(static s => ((PeerTimer)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public bool IsPending
    {
        get
        {
            lock (_lock)
            {
                return _pending;
            }
        }
    }

    public void Mod(TimeSpan due)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _pending = true;
            _timer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    public void Del()
    {
        lock (_lock)
        {
            if (_pending)
            {
                _pending = false;
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Fire()
    {
        lock (_lock)
        {
            if (!_pending || _disposed)
            {
                return;
            }

            _pending = false;
        }

        _handler();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _pending = false;
            _timer.Dispose();
        }
    }
}
