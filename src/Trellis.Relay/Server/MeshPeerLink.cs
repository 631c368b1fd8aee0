using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Relay.Client;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Server;

/// <summary>
/// This relay's mesh-client connection to one peer relay of the region: it watches who is connected
/// there (routes for <see cref="RelayServer"/>) and carries ForwardPackets for them. The peer runs
/// one to us the same way, so each direction of traffic uses the link of the relay it enters.
/// </summary>
internal sealed class MeshPeerLink : IAsyncDisposable
{
    private readonly RelayClient _client;
    private readonly Lock _gate = new();
    private long _drops;
    private Task? _disposal;

    public MeshPeerLink(RelayServer server, Uri url, Key? pinnedKey, MeshPeerKeys keys, ILoggerFactory loggers)
    {
        Url = url;
        var options = server.Options;
        _client = new RelayClient(new RelayClientOptions
        {
            Url = url,
            ServerKeyCheck = presented => keys.Check(url, pinnedKey, presented),
            PrivateKey = options.PrivateKey,
            PrivateCa = options.PrivateCa,
            MeshKey = options.MeshKey,
            WatchConnections = true,
            SelfKey = server.PublicKey,
            SendQueueLength = options.MeshSendQueueLength,
            DropWhenFull = QueueFullMode.DropOldest,
            ReconnectMaxDelay = TimeSpan.FromSeconds(5),
        }, server.Time, loggers.CreateLogger<MeshPeerLink>());
        _client.PeerPresent += key => server.AddRemote(key, this);
        _client.PeerGone += (key, _) => server.RemoveRemote(key, this);
        _client.StateChanged += state =>
        {
            if (state != RelayConnectionState.Connected)
            {
                server.RemoveAllRemote(this);
            }
        };
    }

    public Uri Url { get; }

    public bool IsConnected => _client.IsConnected;

    /// <summary>Why the last attempt failed (a changed key, a refusal), until the link is up again.</summary>
    public string? LastError => _client.LastError;

    /// <summary>Packets dropped on the way to this peer (queue full, or link down).</summary>
    public long Drops => Interlocked.Read(ref _drops);

    public void Start() => _client.Start();

    /// <summary>Queues a whole ForwardPacket frame (the link takes the buffer); false when it was dropped.</summary>
    public bool TryForward(OutFrame frame)
    {
        switch (_client.TryEnqueueFrame(frame))
        {
            case EnqueueResult.Queued:
                return true;
            case EnqueueResult.QueuedDroppingOldest:
                Interlocked.Increment(ref _drops);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Closes the link; shutdown and disposal may both ask, and both wait for the same close.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposal ??= _client.DisposeAsync().AsTask();
            return new ValueTask(_disposal);
        }
    }
}
