using Microsoft.Extensions.Logging;
using Trellis.Core;
using Trellis.Core.Keys;
using Trellis.Relay.Protocol;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Client;

/// <summary>The connection loop: connect, read until it breaks, wait, again.</summary>
public sealed partial class RelayClient
{
    private bool _useWebSocket;
    private string? _abortedBecause;
    private long _lastReceived;
    private long _restartUntil;
    private TimeSpan _restartDelay;

    private async Task<RelayConnection> ConnectOnceAsync(CancellationToken cancellationToken)
    {
        var transport = _options.Transport;
        if (transport == RelayTransport.WebSocket || (transport == RelayTransport.Auto && _useWebSocket))
        {
            return await RelayConnection.ConnectAsync(_options, webSocket: true, _time, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await RelayConnection.ConnectAsync(_options, webSocket: false, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (RelayConnectException e) when (transport == RelayTransport.Auto && e.HttpStatus is { } status && status is not (429 or 503))
        {
            // Something on the way answered without passing the Upgrade on: try the WebSocket, and keep to it.
            LogFallingBack(_logger, _options.Url, status);
            var connection = await RelayConnection.ConnectAsync(_options, webSocket: true, _time, cancellationToken).ConfigureAwait(false);
            _useWebSocket = true;
            return connection;
        }
    }

    private async Task RunAsync(RelayConnection? connection)
    {
        var token = _stop.Token;
        var attempt = 0;
        while (!token.IsCancellationRequested)
        {
            if (connection is null)
            {
                SetState(RelayConnectionState.Connecting);
                try
                {
                    connection = await ConnectOnceAsync(token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    break;
                }
                catch (RelaySelfConnectionException)
                {
                    LogSelf(_logger, _options.Url);
                    break;
                }
                catch (Exception e) when (e is RelayRefusedException or RelayConnectException)
                {
                    LastError = e.Message;
                    LogConnectFailed(_logger, _options.Url, e.Message);
                    SetState(e is RelayRefusedException ? RelayConnectionState.Refused : RelayConnectionState.Disconnected);
                }
            }

            if (connection is not null)
            {
                attempt = 0;
                await ServeAsync(connection).ConfigureAwait(false);
                connection = null;
                SetState(RelayConnectionState.Disconnected);
            }

            try
            {
                await Task.Delay(NextDelay(ref attempt), _time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        SetState(RelayConnectionState.Closed);
    }

    /// <summary>The Restarting frame's delay while its window lasts, else exponential backoff.</summary>
    private TimeSpan NextDelay(ref int attempt)
    {
        if (_restartUntil != 0 && _time.GetTimestamp() < _restartUntil)
        {
            var delay = _restartDelay > TimeSpan.Zero ? _restartDelay : _options.ReconnectBaseDelay;
            return delay * (0.9 + (Random.Shared.NextDouble() / 5));
        }

        _restartUntil = 0;
        return _backoff.Delay(attempt++);
    }

    private async Task ServeAsync(RelayConnection connection)
    {
        Volatile.Write(ref _lastReceived, _time.GetTimestamp());
        Volatile.Write(ref _abortedBecause, null);
        _current = connection;
        LastError = null;
        LogConnected(_logger, _options.Url, connection.ServerKey.ToBase64(), connection.IsWebSocket ? "WebSocket" : "Upgrade");
        SetState(RelayConnectionState.Connected);
        if (_preferred)
        {
            SendNotePreferred(connection, true);
        }

        if (_options.WatchConnections)
        {
            var buffer = OutFrame.Rent(RelayProtocol.HeaderSize);
            connection.Queue.EnqueueControl(new OutFrame(buffer, 0, FrameCodec.WriteEmpty(buffer, FrameType.WatchConns)));
        }

        try
        {
            await ReceiveAsync(connection).ConfigureAwait(false);
            LastError ??= Interlocked.Exchange(ref _abortedBecause, null) ?? "the relay closed the connection";
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException || FrameSender.IsConnectionError(e))
        {
            // Our own abort surfaces as a read error: say why we aborted, not what the socket said.
            LastError = Interlocked.Exchange(ref _abortedBecause, null) ?? e.Message;
        }
        finally
        {
            _current = null;
            foreach (var (data, ping) in _pings)
            {
                if (_pings.TryRemove(data, out _))
                {
                    ping.Result.TrySetException(new RelayConnectException("the relay connection closed before the pong"));
                }
            }

            await connection.DisposeAsync().ConfigureAwait(false);
            LogDisconnected(_logger, _options.Url, LastError ?? "closed");
        }
    }

    private async Task ReceiveAsync(RelayConnection connection)
    {
        var token = _stop.Token;
        while (true)
        {
            var frame = await connection.Reader.ReadAsync().ConfigureAwait(false);
            if (frame.IsEnd)
            {
                return;
            }

            Volatile.Write(ref _lastReceived, _time.GetTimestamp());
            NoteReceived();
            if (frame.Type == FrameType.ReceivePacket)
            {
                if (frame.Length < Key.Size || frame.Length - Key.Size > RelayProtocol.MaxPacketSize)
                {
                    frame.Return();
                    throw new InvalidDataException($"a malformed ReceivePacket frame ({frame.Length} bytes)");
                }

                var packet = new RelayPacket(new Key(frame.Buffer.AsSpan(RelayProtocol.PayloadOffset, Key.Size)), frame.Buffer,
                    RelayProtocol.PayloadOffset + Key.Size, frame.Length - Key.Size);
                if (!_packets.Writer.TryWrite(packet))
                {
                    try
                    {
                        // The application is behind: stop reading, and the relay's queue for us absorbs (or drops).
                        await _packets.Writer.WriteAsync(packet, token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
                    {
                        packet.Dispose();
                        return;
                    }
                }

                continue;
            }

            bool keepGoing;
            try
            {
                keepGoing = HandleControl(connection, frame.Type, frame.Payload);
            }
            finally
            {
                frame.Return();
            }

            if (!keepGoing)
            {
                return;
            }
        }
    }

    /// <summary>False when the connection should end (the relay is restarting).</summary>
    private bool HandleControl(RelayConnection connection, FrameType type, ReadOnlySpan<byte> payload)
    {
        switch (type)
        {
            case FrameType.KeepAlive:
                break;
            case FrameType.PeerGone when FrameCodec.TryParsePeerGone(payload, out var key, out var reason):
                PeerGone?.Invoke(key, reason);
                break;
            case FrameType.PeerPresent when FrameCodec.TryParseKey(payload, out var key):
                PeerPresent?.Invoke(key);
                break;
            case FrameType.Ping when FrameCodec.TryParsePing(payload, out var data):
                SendPing(connection, FrameType.Pong, data);
                break;
            case FrameType.Pong when FrameCodec.TryParsePing(payload, out var data):
                if (_pings.TryRemove(data, out var ping))
                {
                    ping.Result.TrySetResult(_time.GetElapsedTime(ping.Started));
                }
                else
                {
                    NoteProbePong(data);
                }

                break;
            case FrameType.Health when FrameCodec.TryParseHealth(payload, out var problem):
                Health = problem;
                HealthChanged?.Invoke(problem);
                break;
            case FrameType.Restarting when FrameCodec.TryParseRestarting(payload, out var reconnectIn, out var tryFor):
                _restartDelay = reconnectIn;
                _restartUntil = _time.GetTimestamp() + (long)((reconnectIn + tryFor).TotalSeconds * _time.TimestampFrequency);
                LastError = "the relay is restarting";
                LogRestarting(_logger, _options.Url, reconnectIn.TotalMilliseconds);
                return false;
            case FrameType.PeerGone or FrameType.PeerPresent or FrameType.Ping or FrameType.Pong or FrameType.Health or FrameType.Restarting
                or FrameType.ServerKey or FrameType.ServerInfo:
                throw new InvalidDataException($"a malformed or unexpected {type} frame ({payload.Length} bytes)");
            default:
                break; // unknown types are skipped: a newer relay may send them
        }

        return true;
    }

    /// <summary>Drops a connection that is up but useless; <paramref name="reason"/> becomes <see cref="LastError"/>.</summary>
    private void Abort(RelayConnection connection, string reason)
    {
        Volatile.Write(ref _abortedBecause, reason);
        connection.Abort();
    }

    private void CheckIdle()
    {
        if (_current is { } connection && _time.GetElapsedTime(Volatile.Read(ref _lastReceived)) > _options.IdleTimeout)
        {
            LogIdle(_logger, _options.Url);
            Abort(connection, $"nothing heard from the relay for {Durations.Describe(_options.IdleTimeout)}");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "relay {Url} ({ServerKey}) connected over {Transport}")]
    private static partial void LogConnected(ILogger logger, Uri url, string serverKey, string transport);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay {Url} disconnected: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, Uri url, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "relay {Url}: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, Uri url, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay {Url} answered HTTP {Status} to the Upgrade; trying a WebSocket")]
    private static partial void LogFallingBack(ILogger logger, Uri url, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay {Url} is restarting; reconnecting in {Milliseconds} ms")]
    private static partial void LogRestarting(ILogger logger, Uri url, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "relay {Url} silent for too long; reconnecting")]
    private static partial void LogIdle(ILogger logger, Uri url);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay {Url} is this relay; not meshing with itself")]
    private static partial void LogSelf(ILogger logger, Uri url);
}
