using System.Threading.Channels;

namespace Trellis.Control.WebConsole;

/// <summary>
/// One open event stream of the console: a bounded queue of ready-made frames. A client that falls
/// <see cref="ConsoleLiveFeed.QueueCapacity"/> frames behind is dropped (its queue completes), not
/// buffered for: its page reconnects and reads the list afresh. A member's stream carries only
/// their own nodes, and the removal of a node they were shown (deleted, or now owned by another).
/// </summary>
public sealed class ConsoleFeedSubscriber
{
    private readonly Channel<byte[]> _queue;
    private readonly Lock _lock = new();

    // a member's nodes, whose removal they are told of; guarded by _lock
    private readonly HashSet<long>? _shown;

    internal ConsoleFeedSubscriber(string? owner, IEnumerable<long> ownNodes, int capacity)
    {
        Owner = owner;
        _shown = owner is null ? null : [.. ownNodes];
        _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    /// <summary>The member whose nodes alone this stream carries; null for an admin's (every node).</summary>
    public string? Owner { get; }

    /// <summary>The stream fell too far behind and was ended.</summary>
    public bool Dropped { get; private set; }

    public ChannelReader<byte[]> Frames => _queue.Reader;

    internal void Changed(long nodeId, string? owner, byte[]? changed, byte[] removed)
    {
        if (_shown is null)
        {
            Offer(changed ?? removed);
            return;
        }

        bool wasShown;
        lock (_lock)
        {
            if (changed is not null && string.Equals(owner, Owner, StringComparison.Ordinal))
            {
                _shown.Add(nodeId);
                wasShown = true;
            }
            else
            {
                wasShown = _shown.Remove(nodeId);
                changed = null;
            }
        }

        if (changed is not null)
        {
            Offer(changed);
        }
        else if (wasShown)
        {
            Offer(removed);
        }
    }

    internal void Offer(byte[] frame)
    {
        if (!_queue.Writer.TryWrite(frame) && _queue.Writer.TryComplete())
        {
            Dropped = true;
        }
    }

    /// <summary>Ends the stream (server shutdown).</summary>
    internal void End() => _queue.Writer.TryComplete();
}
