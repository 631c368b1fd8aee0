using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Relay.Protocol;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Client;

public enum RelayConnectionState
{
    NotStarted,
    Connecting,
    Connected,
    Disconnected,

    /// <summary>The relay refused this node (see <see cref="RelayClient.LastError"/>); retried with backoff.</summary>
    Refused,
    Closed,
}

/// <summary>
/// A node's connection to one relay: proves the node key, sends packets to other node keys, and
/// yields packets sent to it (<see cref="Packets"/>, pooled: dispose each). It reconnects on its own,
/// with exponential backoff and jitter, or when the relay said Restarting, after the delay it named.
/// Events run on the receive loop: keep them short.
/// </summary>
public sealed partial class RelayClient : IAsyncDisposable
{
    private readonly RelayClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Backoff _backoff;
    private readonly Channel<RelayPacket> _packets;
    private readonly ConcurrentDictionary<ulong, PendingPing> _pings = new();
    private readonly CancellationTokenSource _stop = new();
    private volatile RelayConnection? _current;
    private Task _loop = Task.CompletedTask;
    private ITimer? _idleTimer;
    private int _started;
    private int _disposed;
    private volatile bool _preferred;
    private volatile bool _queueStalled; // a TryQueue wait ran out; cleared when a packet fits again
    private volatile RelayConnectionState _state;
    private long _sendDrops;

    public RelayClient(RelayClientOptions options, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _backoff = new Backoff(options.ReconnectBaseDelay, options.ReconnectMaxDelay, Random.Shared);
        _packets = Channel.CreateBounded<RelayPacket>(new BoundedChannelOptions(options.ReceiveQueueLength)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        PublicKey = X25519.PublicKey(options.PrivateKey);
    }

    public Key PublicKey { get; }

    public Uri Url => _options.Url;

    public RelayConnectionState State => _state;

    public bool IsConnected => _current is not null;

    /// <summary>The relay's key, once connected.</summary>
    public Key? ServerKey => _current?.ServerKey;

    /// <summary>What the relay said at the handshake (its rate limit), while connected.</summary>
    public RelayServerInfo? ServerInfo => _current?.ServerInfo;

    /// <summary>True when the connection runs over the WebSocket fallback.</summary>
    public bool UsesWebSocket => _current?.IsWebSocket ?? false;

    /// <summary>The relay's last Health report ("" when healthy).</summary>
    public string Health { get; private set; } = "";

    /// <summary>Why the last connection attempt failed or the last connection ended.</summary>
    public string? LastError { get; private set; }

    /// <summary>Packets not sent because there was no connection (or its queue was full, for <see cref="TrySend"/>).</summary>
    public long SendDrops => Interlocked.Read(ref _sendDrops);

    /// <summary>Packets from other nodes, in pooled buffers: dispose each.</summary>
    public ChannelReader<RelayPacket> Packets => _packets.Reader;

    public event Action<RelayConnectionState>? StateChanged;

    /// <summary>A node this client sent to left the relay, or is not there.</summary>
    public event Action<Key, PeerGoneReason>? PeerGone;

    /// <summary>A node connected to the relay (mesh watchers only).</summary>
    public event Action<Key>? PeerPresent;

    public event Action<string>? HealthChanged;

    /// <summary>Connects once (throwing <see cref="RelayRefusedException"/> or <see cref="RelayConnectException"/> on failure), then keeps the connection up.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("the relay client is already started");
        }

        RelayConnection connection;
        try
        {
            SetState(RelayConnectionState.Connecting);
            connection = await ConnectOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LastError = e.Message;
            SetState(e is RelayRefusedException ? RelayConnectionState.Refused : RelayConnectionState.Disconnected);
            Volatile.Write(ref _started, 0);
            throw;
        }

        StartIdleTimer();
        _loop = RunAsync(connection);
    }

    /// <summary>Connects in the background, retrying with backoff until disposed.</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        StartIdleTimer();
        _loop = RunAsync(null);
    }

    /// <summary>
    /// Queues a packet for <paramref name="destination"/>, waiting while the send queue is full
    /// (TCP back-pressure from the relay). False when there is no connection: the packet is dropped,
    /// as a network would.
    /// </summary>
    public ValueTask<bool> SendAsync(Key destination, ReadOnlyMemory<byte> packet, CancellationToken cancellationToken = default)
    {
        if (!TryBuild(destination, packet.Span, out var connection, out var frame))
        {
            return new ValueTask<bool>(false);
        }

        return _options.DropWhenFull is null
            ? connection.Queue.EnqueueAsync(frame, cancellationToken)
            : new ValueTask<bool>(connection.Queue.TryEnqueue(frame) is EnqueueResult.Queued or EnqueueResult.QueuedDroppingOldest);
    }

    /// <summary>Queues a packet without waiting; false (dropped) when not connected or the queue is full.</summary>
    public bool TrySend(Key destination, ReadOnlySpan<byte> packet)
    {
        if (!TryBuild(destination, packet, out var connection, out var frame))
        {
            return false;
        }

        if (connection.Queue.TryEnqueue(frame) is EnqueueResult.Queued or EnqueueResult.QueuedDroppingOldest)
        {
            return true;
        }

        Interlocked.Increment(ref _sendDrops);
        return false;
    }

    /// <summary>
    /// Queues one packet of a batch without waking the writer (it wakes once at <see cref="Flush"/>, or
    /// as soon as the queue is half full). A full queue is waited on, blocking the caller for up to
    /// <paramref name="waitForRoom"/>, so back-pressure from the relay slows the sender instead of
    /// dropping; once such a wait ran out, packets drop at once until one fits again, so a stalled
    /// connection costs its caller one wait, not one per packet. False (dropped) when not connected or full.
    /// </summary>
    public bool TryQueue(Key destination, ReadOnlySpan<byte> packet, TimeSpan waitForRoom)
    {
        if (!TryBuild(destination, packet, out var connection, out var frame))
        {
            return false;
        }

        var wait = _queueStalled ? TimeSpan.Zero : waitForRoom;
        if (connection.Queue.TryEnqueue(frame, deferWake: true, wait) is EnqueueResult.Queued or EnqueueResult.QueuedDroppingOldest)
        {
            _queueStalled = false;
            return true;
        }

        _queueStalled = true;
        Interlocked.Increment(ref _sendDrops);
        return false;
    }

    /// <summary>Wakes the writer for what <see cref="TryQueue"/> queued: once per batch.</summary>
    public void Flush() => _current?.Queue.Wake();

    private bool TryBuild(Key destination, ReadOnlySpan<byte> packet, out RelayConnection connection, out OutFrame frame)
    {
        if (packet.Length > RelayProtocol.MaxPacketSize)
        {
            throw new ArgumentException($"a relayed packet is at most {RelayProtocol.MaxPacketSize} bytes, got {packet.Length}", nameof(packet));
        }

        var current = _current;
        if (current is null)
        {
            Interlocked.Increment(ref _sendDrops);
            connection = null!;
            frame = default;
            return false;
        }

        connection = current;
        var buffer = OutFrame.Rent(RelayProtocol.HeaderSize + Key.Size + packet.Length);
        frame = new OutFrame(buffer, 0, FrameCodec.WritePacket(buffer, FrameType.SendPacket, destination, packet));
        NoteSent(connection);
        return true;
    }

    /// <summary>Mesh links hand on frames already built (ForwardPacket) without copying them.</summary>
    internal EnqueueResult TryEnqueueFrame(OutFrame frame)
    {
        var connection = _current;
        if (connection is null)
        {
            frame.Return();
            return EnqueueResult.Closed;
        }

        return connection.Queue.TryEnqueue(frame);
    }

    /// <summary>Tells the relay whether it is this node's home relay (remembered across reconnects).</summary>
    public void NotePreferred(bool preferred)
    {
        _preferred = preferred;
        if (_current is { } connection)
        {
            SendNotePreferred(connection, preferred);
        }
    }

    /// <summary>The round trip of a Ping to the relay and its Pong.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var connection = _current ?? throw new InvalidOperationException("the relay client is not connected");
        var data = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        var pending = new PendingPing(new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously), _time.GetTimestamp());
        _pings[data] = pending;
        try
        {
            SendPing(connection, FrameType.Ping, data);
            return await pending.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pings.TryRemove(data, out _);
        }
    }

    private static void SendNotePreferred(RelayConnection connection, bool preferred)
    {
        var buffer = OutFrame.Rent(RelayProtocol.HeaderSize + 1);
        connection.Queue.EnqueueControl(new OutFrame(buffer, 0, FrameCodec.WriteNotePreferred(buffer, preferred)));
    }

    private static void SendPing(RelayConnection connection, FrameType type, ulong data)
    {
        var buffer = OutFrame.Rent(RelayProtocol.HeaderSize + RelayProtocol.PingSize);
        connection.Queue.EnqueueControl(new OutFrame(buffer, 0, FrameCodec.WritePing(buffer, type, data)));
    }

    private void SetState(RelayConnectionState state)
    {
        if (_state == state)
        {
            return;
        }

        _state = state;
        StateChanged?.Invoke(state);
    }

    private void StartIdleTimer()
    {
        var period = _options.IdleTimeout / 4;
        _idleTimer = _time.CreateTimer(static s => ((RelayClient)s!).CheckIdle(), this, period, period);
    }

    /// <summary>Closes, after writing (briefly) what is queued. Undelivered received packets are returned to the pool.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_current is { } connection)
        {
            await connection.Sender.FlushAndStopAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            connection.Abort();
        }

        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (TakeLivenessTimer() is { } liveness)
        {
            await liveness.DisposeAsync().ConfigureAwait(false);
        }

        if (_idleTimer is not null)
        {
            await _idleTimer.DisposeAsync().ConfigureAwait(false);
        }

        _packets.Writer.TryComplete();
        while (_packets.Reader.TryRead(out var packet))
        {
            packet.Dispose();
        }

        SetState(RelayConnectionState.Closed);
        _stop.Dispose();
    }

    private readonly record struct PendingPing(TaskCompletionSource<TimeSpan> Result, long Started);
}
