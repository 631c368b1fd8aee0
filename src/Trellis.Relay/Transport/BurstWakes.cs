namespace Trellis.Relay.Transport;

/// <summary>
/// The send queues a reader filled from one read burst without waking their writers: each writer
/// wakes once when the burst is routed and writes what it got in one go, instead of being woken
/// (a thread-pool hop) for every frame. Owned by one reader; fixed size, so routing allocates nothing.
/// </summary>
internal sealed class BurstWakes
{
    private readonly SendQueue?[] _queues;
    private int _count;

    public BurstWakes(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _queues = new SendQueue?[capacity];
    }

    /// <summary>Remembers <paramref name="queue"/> for <see cref="WakeAll"/>; once full, a new queue's writer wakes at once.</summary>
    public void Add(SendQueue queue)
    {
        for (var i = 0; i < _count; i++)
        {
            if (ReferenceEquals(_queues[i], queue))
            {
                return;
            }
        }

        if (_count == _queues.Length)
        {
            queue.Wake();
            return;
        }

        _queues[_count++] = queue;
    }

    /// <summary>The burst is routed: wakes every remembered writer that has something to write, and forgets them.</summary>
    public void WakeAll()
    {
        for (var i = 0; i < _count; i++)
        {
            _queues[i]!.Wake();
            _queues[i] = null; // a closed connection is not kept alive by the last burst that went to it
        }

        _count = 0;
    }
}
