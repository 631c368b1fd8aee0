namespace Trellis.WireGuard;

/// <summary>
/// A bounded FIFO of references with blocking and non-blocking ends, used for the pipeline's queues
/// and free lists. Monitor-based and allocation-free, unlike the channel types, whose waits allocate.
/// </summary>
internal sealed class BlockingRing<T>
    where T : class
{
    private readonly T?[] _items;

    // Monitor, not Lock: the blocking ends need Monitor.Wait/Pulse.
    private readonly object _lock = new();
    private int _head;
    private int _count;
    private bool _closed;

    // Threads blocked in Take and in Add (under _lock): a change wakes only whom it can help, and one
    // taker per item, instead of every waiter (two workers woken for one batch, one of them for nothing).
    private int _waitingTakers;
    private int _waitingAdders;

    public BlockingRing(int capacity) => _items = new T?[capacity];

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    public int Capacity => _items.Length;

    /// <summary>Adds unless full or closed.</summary>
    public bool TryAdd(T item)
    {
        lock (_lock)
        {
            if (_closed || _count == _items.Length)
            {
                return false;
            }

            AddLocked(item);
            return true;
        }
    }

    /// <summary>Adds, waiting for room; false once closed.</summary>
    public bool Add(T item)
    {
        lock (_lock)
        {
            while (!_closed && _count == _items.Length)
            {
                _waitingAdders++;
                Monitor.Wait(_lock);
                _waitingAdders--;
            }

            if (_closed)
            {
                return false;
            }

            AddLocked(item);
            return true;
        }
    }

    public bool TryTake(out T item)
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                item = null!;
                return false;
            }

            item = TakeLocked();
            return true;
        }
    }

    /// <summary>Takes, waiting for an item; false once closed and empty.</summary>
    public bool Take(out T item)
    {
        lock (_lock)
        {
            while (_count == 0 && !_closed)
            {
                _waitingTakers++;
                Monitor.Wait(_lock);
                _waitingTakers--;
            }

            if (_count == 0)
            {
                item = null!;
                return false;
            }

            item = TakeLocked();
            return true;
        }
    }

    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            Monitor.PulseAll(_lock);
        }
    }

    private void AddLocked(T item)
    {
        _items[(_head + _count) % _items.Length] = item;
        _count++;
        Wake(_waitingTakers);
    }

    // Monitor has one wait queue for both kinds of waiter: Pulse could wake the wrong kind, so one is
    // woken only when no waiter of the other kind is blocked.
    private void Wake(int waitingOfThatKind)
    {
        if (waitingOfThatKind == 0)
        {
            return;
        }

        if (_waitingTakers + _waitingAdders == waitingOfThatKind)
        {
            Monitor.Pulse(_lock);
        }
        else
        {
            Monitor.PulseAll(_lock);
        }
    }

    private T TakeLocked()
    {
        var item = _items[_head]!;
        _items[_head] = null;
        _head = (_head + 1) % _items.Length;
        _count--;
        Wake(_waitingAdders);
        return item;
    }
}
