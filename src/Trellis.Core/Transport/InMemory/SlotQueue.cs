namespace Trellis.Core.Transport.InMemory;

/// <summary>
/// A bounded queue of packets copied into preallocated slots, so the in-memory doubles add no
/// allocation of their own to the data path they stand in for. Full means drop, like a real queue.
/// </summary>
public sealed class SlotQueue
{
    private readonly object _lock = new();
    private readonly byte[][] _slots;
    private readonly int[] _lengths;
    private readonly Endpoint[] _endpoints;
    private int _head;
    private int _count;
    private bool _closed;
    private int _roomWaiters;

    public SlotQueue(int capacity, int slotSize)
    {
        _slots = new byte[capacity][];
        for (var i = 0; i < capacity; i++)
        {
            _slots[i] = new byte[slotSize];
        }

        _lengths = new int[capacity];
        _endpoints = new Endpoint[capacity];
        SlotSize = slotSize;
    }

    public int SlotSize { get; }

    public long Dropped { get; private set; }

    public long Enqueued { get; private set; }

    public bool Enqueue(ReadOnlySpan<byte> packet, in Endpoint endpoint) => Enqueue(packet, endpoint, TimeSpan.Zero);

    /// <summary>
    /// Like <see cref="Enqueue(ReadOnlySpan{byte}, in Endpoint)"/>, but a full queue is waited on (blocking the caller)
    /// for up to <paramref name="waitForRoom"/> before the packet is dropped: a producer that reads
    /// from a stream can so leave the stream's own buffer to absorb a slow consumer.
    /// </summary>
    public bool Enqueue(ReadOnlySpan<byte> packet, in Endpoint endpoint, TimeSpan waitForRoom)
    {
        lock (_lock)
        {
            if (_count == _slots.Length && !_closed && waitForRoom > TimeSpan.Zero)
            {
                _roomWaiters++;
                try
                {
                    var deadline = Environment.TickCount64 + (long)waitForRoom.TotalMilliseconds;
                    while (_count == _slots.Length && !_closed && deadline - Environment.TickCount64 is > 0 and var left)
                    {
                        Monitor.Wait(_lock, (int)Math.Min(left, int.MaxValue));
                    }
                }
                finally
                {
                    _roomWaiters--;
                }
            }

            if (_closed || _count == _slots.Length || packet.Length > SlotSize)
            {
                Dropped++;
                return false;
            }

            var tail = (_head + _count) % _slots.Length;
            packet.CopyTo(_slots[tail]);
            _lengths[tail] = packet.Length;
            _endpoints[tail] = endpoint;
            _count++;
            Enqueued++;
            Monitor.PulseAll(_lock);
            return true;
        }
    }

    /// <summary>
    /// Waits for at least one packet (up to <paramref name="timeout"/>; infinite by default), then moves
    /// up to <c>into.Length</c> of them, each at <paramref name="offset"/>. Returns 0 on close or timeout.
    /// </summary>
    public int Dequeue(Span<PacketBuffer> into, int offset, TimeSpan? timeout = null)
    {
        lock (_lock)
        {
            var deadline = timeout is { } t ? Environment.TickCount64 + (long)t.TotalMilliseconds : long.MaxValue;
            while (_count == 0 && !_closed)
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    return 0;
                }

                Monitor.Wait(_lock, left > int.MaxValue ? Timeout.Infinite : (int)left);
            }

            var n = 0;
            while (_count > 0 && n < into.Length)
            {
                var b = into[n++];
                _slots[_head].AsSpan(0, _lengths[_head]).CopyTo(b.Data.Slice(offset));
                b.Offset = offset;
                b.Length = _lengths[_head];
                b.Endpoint = _endpoints[_head];
                _head = (_head + 1) % _slots.Length;
                _count--;
            }

            if (n > 0 && _roomWaiters > 0)
            {
                Monitor.PulseAll(_lock);
            }

            return n;
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

    public void Reopen()
    {
        lock (_lock)
        {
            _closed = false;
            _count = 0;
        }
    }
}
