using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Relay.Protocol;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Server;

/// <summary>
/// One connection to the relay, from the upgrade on: the handshake (ServerKey, the client's sealed
/// ClientInfo, admission, ServerInfo), then its reader loop, which routes what the client sends.
/// Its writes go through its own <see cref="FrameSender"/>. Malformed input ends this connection only.
/// </summary>
internal sealed partial class ClientConnection
{
    /// <summary>One read's worth of frames (a burst of small packets), held only while unread bytes remain.</summary>
    private const int ReadAhead = 8 * 1024;

    /// <summary>Destinations one burst may leave asleep; beyond them a writer wakes at once.</summary>
    private const int MaxWakesDeferred = 16;

    private readonly RelayServer _server;
    private readonly FrameReader _reader;
    private readonly Action _abort;
    private readonly ILogger _logger;
    private readonly byte[] _challenge = new byte[RelayProtocol.ChallengeSize];
    private TokenBucket? _bucket;
    private CancellationTokenSource? _stopPause;
    private object? _lastTarget;
    private Key _lastNotHere;
    private volatile bool _ready;
    private bool _refused;
    private int _aborted;

    public ClientConnection(RelayServer server, Stream stream, Action abort, IPAddress? remoteAddress)
    {
        _server = server;
        _reader = new FrameReader(stream, ReadAhead, server.Options.FramePool, rentReadAhead: true);
        _abort = abort;
        _logger = server.Logger;
        RemoteAddress = remoteAddress;
        var options = server.Options;
        Sender = new FrameSender(stream, new SendQueue(options.SendQueueLength, options.QueueFullMode, options.SendQueueBytes), server.Time, Abort);
    }

    public Key NodeKey { get; private set; }

    public IPAddress? RemoteAddress { get; }

    public bool IsMesh { get; private set; }

    /// <summary>Admitted and reachable (mesh peers are never registered).</summary>
    public bool IsRegistered { get; private set; }

    public bool IsPreferred { get; private set; }

    public FrameSender Sender { get; }

    public SendQueue Queue => Sender.Queue;

    public RelayCounters Counters { get; } = new();

    /// <summary>The destinations whose writers wait for the end of the burst this connection's reader is routing (reader-owned).</summary>
    public BurstWakes BurstWakes { get; } = new(MaxWakesDeferred);

    /// <summary>Who sent to this client while it was here.</summary>
    public RecentSenders Senders { get; } = new();

    public async Task RunAsync()
    {
        _server.Opened(this);
        Sender.Start();
        try
        {
            RandomNumberGenerator.Fill(_challenge);
            var serverKey = OutFrame.Rent(RelayProtocol.HeaderSize + RelayProtocol.MagicSize + Key.Size + RelayProtocol.ChallengeSize);
            var length = FrameCodec.WriteServerKey(serverKey, _server.PublicKey, _challenge);
            Queue.EnqueueControl(new OutFrame(serverKey, 0, length));
            if (await HandshakeAsync().ConfigureAwait(false))
            {
                await ReadLoopAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            LogBadInput(_logger, Describe(), e.Message);
        }
        catch (Exception e) when (FrameSender.IsConnectionError(e))
        {
            // gone, or closed by the relay (replaced, stalled, shutdown)
        }
        finally
        {
            if (!_ready && !_refused)
            {
                Counters.HandshakesFailed++;
            }

            if (IsRegistered)
            {
                _server.Unregister(this);
            }

            // Returning lets the host close the connection cleanly after what is queued (a refusal's
            // ServerInfo); only a writer that cannot finish is cut off.
            if (!await Sender.FlushAndStopAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false))
            {
                Abort();
                await Sender.Completion.ConfigureAwait(false);
            }

            _server.Closed(this);
        }
    }

    private async Task<bool> HandshakeAsync()
    {
        var options = _server.Options;
        using var timeout = new CancellationTokenSource(options.HandshakeTimeout, _server.Time);
        var registration = timeout.Token.UnsafeRegister(static s => ((ClientConnection)s!).Abort(), this);
        try
        {
            var frame = await _reader.ReadAsync(RelayProtocol.MaxClientInfoLength).ConfigureAwait(false);
            RelayClientInfo? info;
            try
            {
                if (frame.IsEnd)
                {
                    return false;
                }

                if (frame.Type != FrameType.ClientInfo
                    || !HandshakeSeal.TryOpenClientInfo(options.PrivateKey, _server.PublicKey, _challenge, frame.Payload, out var nodeKey, out info))
                {
                    LogHandshakeFailed(_logger, RemoteAddress?.ToString() ?? "?", frame.Type.ToString());
                    return false;
                }

                NodeKey = nodeKey;
            }
            finally
            {
                frame.Return();
            }

            var refusal = await CheckAdmissionAsync(info!, timeout.Token).ConfigureAwait(false);
            await registration.DisposeAsync().ConfigureAwait(false);
            if (timeout.IsCancellationRequested)
            {
                return false;
            }

            var serverInfo = new RelayServerInfo
            {
                RateLimitBytesPerSecond = IsMesh ? 0 : options.RateLimitBytesPerSecond,
                RateLimitBurstBytes = IsMesh ? 0 : options.EffectiveBurst,
                Error = refusal,
            };
            Queue.EnqueueControl(OutFrame.Copy(HandshakeSeal.SealServerInfo(options.PrivateKey, _server.PublicKey, NodeKey, _challenge, serverInfo)));
            if (refusal is not null)
            {
                _refused = true;
                Counters.HandshakesRefused++;
                LogRefused(_logger, Describe(), refusal);
                return false;
            }

            if (serverInfo.RateLimitBytesPerSecond > 0)
            {
                _bucket = new TokenBucket(serverInfo.RateLimitBytesPerSecond, serverInfo.RateLimitBurstBytes, _server.Time);
                _stopPause = new CancellationTokenSource();
            }

            _ready = true;
            if (_server.Health.Length > 0)
            {
                SendHealth(_server.Health);
            }

            if (!IsMesh)
            {
                Counters.ClientsAccepted++;
                IsRegistered = true;
                _server.Register(this);
            }

            LogConnected(_logger, Describe());
            return true;
        }
        finally
        {
            await registration.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Null when admitted, else the reason told to the client.</summary>
    private async Task<string?> CheckAdmissionAsync(RelayClientInfo info, CancellationToken cancellationToken)
    {
        if (info.MeshKey is not null)
        {
            // A wrong mesh key is refused outright, not treated as an ordinary client.
            IsMesh = _server.IsMeshKey(info.MeshKey);
            return IsMesh ? null : "the mesh key is wrong: this relay does not mesh with the presenter";
        }

        try
        {
            return await _server.Options.Admission.IsAllowedAsync(NodeKey, cancellationToken).ConfigureAwait(false)
                ? null
                : $"node key {NodeKey.ToBase64()} is not allowed on this relay";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogAdmissionFailed(_logger, NodeKey.ToBase64(), e.Message);
            return "the relay could not check this node key with its control server (its log says why); try again later";
        }
    }

    /// <summary>
    /// Routes every frame one read brought before waking the destinations' writers, so a burst to one
    /// destination leaves in one write rather than racing its writer frame by frame.
    /// </summary>
    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var frame = await _reader.ReadAsync().ConfigureAwait(false);
                if (frame.IsEnd)
                {
                    return;
                }

                var size = RelayProtocol.HeaderSize + frame.Length;
                Handle(frame);
                if (!_reader.HasBufferedFrame)
                {
                    BurstWakes.WakeAll();
                }

                if (_bucket is not null)
                {
                    var wait = _bucket.Take(size);
                    if (wait > TimeSpan.Zero)
                    {
                        // Not reading is the back-pressure: the client's TCP window closes.
                        BurstWakes.WakeAll();
                        await Task.Delay(wait, _server.Time, _stopPause!.Token).ConfigureAwait(false);
                    }
                }
            }
        }
        finally
        {
            BurstWakes.WakeAll();
        }
    }

    /// <summary>Takes ownership of the frame's buffer; throws <see cref="InvalidDataException"/> for malformed input.</summary>
    private void Handle(InFrame frame)
    {
        switch (frame.Type)
        {
            case FrameType.SendPacket when frame.Length >= Key.Size && frame.Length - Key.Size <= RelayProtocol.MaxPacketSize:
                _server.RouteSendPacket(this, frame);
                return;
            case FrameType.ForwardPacket when IsMesh && frame.Length >= 2 * Key.Size && frame.Length - (2 * Key.Size) <= RelayProtocol.MaxPacketSize:
                _server.RouteForwardPacket(this, frame);
                return;
        }

        try
        {
            HandleControl(frame.Type, frame.Payload);
        }
        finally
        {
            frame.Return();
        }
    }

    private void HandleControl(FrameType type, ReadOnlySpan<byte> payload)
    {
        switch (type)
        {
            case FrameType.NotePreferred when FrameCodec.TryParseNotePreferred(payload, out var preferred):
                IsPreferred = preferred;
                break;
            case FrameType.Ping when FrameCodec.TryParsePing(payload, out var data):
                SendSmall(FrameType.Pong, data);
                break;
            case FrameType.Pong or FrameType.KeepAlive:
                break;
            case FrameType.WatchConns when IsMesh:
                _server.Watch(this);
                break;
            case FrameType.ClosePeer when IsMesh && FrameCodec.TryParseKey(payload, out var key):
                _server.ClosePeer(key);
                break;
            case FrameType.SendPacket or FrameType.ForwardPacket or FrameType.NotePreferred or FrameType.Ping
                or FrameType.WatchConns or FrameType.ClosePeer or FrameType.ClientInfo
                or FrameType.ServerKey or FrameType.ServerInfo or FrameType.ReceivePacket or FrameType.PeerGone
                or FrameType.PeerPresent or FrameType.Health or FrameType.Restarting:
                throw new InvalidDataException($"a malformed or unexpected {type} frame ({payload.Length} bytes)");
            default:
                break; // unknown types are skipped: a newer client may send them
        }
    }

    public void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) == 0)
        {
            _abort();
            StopPause();
        }
    }

    private string Describe() => $"{(IsMesh ? "mesh peer" : "node")} {NodeKey.ToBase64()} from {RemoteAddress}";

    [LoggerMessage(Level = LogLevel.Debug, Message = "relay client connected: {Client}")]
    private static partial void LogConnected(ILogger logger, string client);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay handshake from {Address} failed (first frame {FrameType})")]
    private static partial void LogHandshakeFailed(ILogger logger, string address, string frameType);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay refused {Client}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string client, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "relay admission check for {NodeKey} failed: {Reason}")]
    private static partial void LogAdmissionFailed(ILogger logger, string nodeKey, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay closed {Client} after bad input: {Reason}")]
    private static partial void LogBadInput(ILogger logger, string client, string reason);
}
