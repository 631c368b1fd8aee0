namespace Trellis.Control.NodeProtocol;

/// <summary>
/// Cancels a node connection once it has received nothing for the idle timeout. One timer per
/// connection, re-armed for the time left whenever it finds the connection was heard from meanwhile.
/// </summary>
internal sealed class IdleWatch : IDisposable
{
    private readonly ReceiveActivity _activity;
    private readonly TimeSpan _timeout;
    // Never disposed: the timer may cancel it while the connection ends, and a source without a
    // timer or links holds nothing that needs disposing.
    private readonly CancellationTokenSource _expired = new();
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private bool _disposed; // guarded by _lock

    public IdleWatch(ReceiveActivity activity, TimeSpan timeout, TimeProvider time)
    {
        _activity = activity;
        _timeout = timeout;
        _timer = time.CreateTimer(_ => Check(), null, timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Cancelled when the connection has been idle for the timeout.</summary>
    public CancellationToken Expired => _expired.Token;

    private void Check()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            var idle = _activity.Idle;
            if (idle < _timeout)
            {
                _timer.Change(_timeout - idle, Timeout.InfiniteTimeSpan);
                return;
            }
        }

        _expired.Cancel();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _timer.Dispose();
    }
}
