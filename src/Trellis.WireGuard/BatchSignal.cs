namespace Trellis.WireGuard;

/// <summary>
/// "This batch is processed", which the ordered completion thread waits for. Everything it needs is
/// made here, once: <see cref="ManualResetEventSlim"/> allocates in its first blocking wait (its lock
/// object, and 7 KiB was once seen there), and on a busy machine that first wait comes mid-traffic.
/// </summary>
internal sealed class BatchSignal
{
    // A few microseconds: workers usually finish a batch within them, and spinning spares a sleep.
    private const int SpinCount = 100;

    private readonly object _lock = new();
    private int _set;

    // threads blocked in Wait, changed under _lock; Set reads it to skip the lock when nobody waits
    private int _waiters;

    public bool IsSet => Volatile.Read(ref _set) != 0;

    public void Reset() => Volatile.Write(ref _set, 0);

    public void Set()
    {
        // Interlocked on both sides: either the waiter sees the flag or this sees the waiter.
        Interlocked.Exchange(ref _set, 1);
        if (Volatile.Read(ref _waiters) > 0)
        {
            lock (_lock)
            {
                Monitor.PulseAll(_lock);
            }
        }
    }

    public void Wait()
    {
        var spinner = default(SpinWait);
        while (!IsSet && spinner.Count < SpinCount)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        if (IsSet)
        {
            return;
        }

        lock (_lock)
        {
            Interlocked.Increment(ref _waiters);
            while (!IsSet)
            {
                Monitor.Wait(_lock);
            }

            Interlocked.Decrement(ref _waiters);
        }
    }
}
