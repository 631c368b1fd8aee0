using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Trellis.Control.Admin;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Store;

namespace Trellis.Control.WebConsole;

/// <summary>
/// The console's live view of the machines: every node change <see cref="ControlService"/>
/// publishes (online, offline, new, renamed, routes, deleted) becomes one server-sent event,
/// serialised once and queued to each open stream that may see it. A heartbeat comment goes to
/// every stream each <see cref="HeartbeatInterval"/>, so proxies keep it open and a stream whose
/// session ended is closed.
/// </summary>
public sealed class ConsoleLiveFeed : INodeChangeObserver, IDisposable
{
    /// <summary>Frames one stream may fall behind before it is dropped: a burst of every node of a large mesh reconnecting fits.</summary>
    public const int QueueCapacity = 8192;

    /// <summary>Below the idle timeouts of common proxies (60 s and up).</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(15);

    /// <summary>A comment line: the browser ignores it, the connection sees traffic.</summary>
    internal static readonly byte[] Heartbeat = Encoding.UTF8.GetBytes(": heartbeat\n\n");

    /// <summary>The first frame of a stream: how long the browser waits before reconnecting, and that the page may now read the list.</summary>
    internal static readonly byte[] Ready = Encoding.UTF8.GetBytes("retry: 3000\nevent: ready\ndata: {}\n\n");

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<ConsoleFeedSubscriber, byte> _subscribers = new();
    private readonly ITimer _heartbeat;
    private readonly int _capacity;

    public ConsoleLiveFeed(TimeProvider time, int capacity = QueueCapacity)
    {
        _time = time;
        _capacity = capacity;
        _heartbeat = time.CreateTimer(_ => Broadcast(Heartbeat), null, HeartbeatInterval, HeartbeatInterval);
    }

    public int Count => _subscribers.Count;

    /// <param name="owner">The member whose nodes alone the stream carries; null for an admin.</param>
    /// <param name="ownNodes">The member's nodes now (whose removal they will be told of).</param>
    public ConsoleFeedSubscriber Subscribe(string? owner, IEnumerable<long> ownNodes)
    {
        var subscriber = new ConsoleFeedSubscriber(owner, ownNodes, _capacity);
        _subscribers[subscriber] = 0;
        return subscriber;
    }

    public void Unsubscribe(ConsoleFeedSubscriber subscriber) => _subscribers.TryRemove(subscriber, out _);

    public void NodeChanged(long nodeId, Node? node)
    {
        if (_subscribers.IsEmpty)
        {
            return;
        }

        var changed = node is null ? null : Frame("node", JsonSerializer.SerializeToUtf8Bytes(NodeDto.From(node, _time.GetUtcNow()), AdminJsonContext.Relaxed.NodeDto));
        var removed = Frame("removed", Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{{\"id\":{nodeId}}}")));
        var owner = node?.User?.Name;
        foreach (var subscriber in _subscribers.Keys)
        {
            subscriber.Changed(nodeId, owner, changed, removed);
        }
    }

    /// <summary>Ends every stream (the server is stopping).</summary>
    public void EndAll()
    {
        foreach (var subscriber in _subscribers.Keys)
        {
            subscriber.End();
        }
    }

    public void Dispose()
    {
        _heartbeat.Dispose();
        EndAll();
    }

    private void Broadcast(byte[] frame)
    {
        foreach (var subscriber in _subscribers.Keys)
        {
            subscriber.Offer(frame);
        }
    }

    // JSON never holds a raw line break, so the data is one line.
    private static byte[] Frame(string kind, byte[] json)
    {
        var head = Encoding.UTF8.GetBytes($"event: {kind}\ndata: ");
        var frame = new byte[head.Length + json.Length + 2];
        head.CopyTo(frame, 0);
        json.CopyTo(frame, head.Length);
        frame[^2] = (byte)'\n';
        frame[^1] = (byte)'\n';
        return frame;
    }
}
