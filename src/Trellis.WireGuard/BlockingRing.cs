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
                Monitor.Wait(_lock);
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
                Monitor.Wait(_lock);
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
        Monitor.PulseAll(_lock);
    }

    private T TakeLocked()
    {
        var item = _items[_head]!;
        _items[_head] = null;
        _head = (_head + 1) % _items.Length;
        _count--;
        Monitor.PulseAll(_lock);
        return item;
    }
}
