using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Relay.Protocol;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Server;

/// <summary>What the relay tells a client besides packets; keepalives, stalled writers, shutdown.</summary>
internal sealed partial class ClientConnection
{
    /// <summary>Remembers, once per change of destination, that this client sent there.</summary>
    public void NoteSentTo(RecentSenders senders, object target)
    {
        if (!ReferenceEquals(_lastTarget, target))
        {
            _lastTarget = target;
            _lastNotHere = default;
            senders.Add(NodeKey);
        }
    }

    /// <summary>PeerGone(not here) for an unknown destination, once per run of packets to it.</summary>
    public void NotifyNotHere(Key destination)
    {
        if (destination != _lastNotHere)
        {
            _lastNotHere = destination;
            _lastTarget = null;
            SendPeerGone(destination, PeerGoneReason.NotHere);
        }
    }

    public void SendPeerGone(Key key, PeerGoneReason reason)
    {
        var buffer = OutFrame.Rent(RelayProtocol.HeaderSize + Key.Size + 1);
        Queue.EnqueueControl(new OutFrame(buffer, 0, FrameCodec.WritePeerGone(buffer, key, reason)));
    }

    public void SendPeerPresent(Key key)
    {
        var buffer = OutFrame.Rent(RelayProtocol.HeaderSize + Key.Size);
        Queue.EnqueueControl(new OutFrame(buffer, 0, FrameCodec.WriteKey(buffer, FrameType.PeerPresent, key)));
    }

    public void SendHealth(string problem)
    {
        if (!_ready)
        {
            return;
        }

        var buffer = OutFrame.Rent(FrameCodec.HealthFrameSize(problem));
        Queue.EnqueueControl(new OutFrame(buffer, 0, FrameCodec.WriteHealth(buffer, problem)));
    }

    private void SendSmall(FrameType type, ulong ping)
    {
        var buffer = OutFrame.Rent(RelayProtocol.HeaderSize + RelayProtocol.PingSize);
        Queue.EnqueueControl(new OutFrame(buffer, 0, FrameCodec.WritePing(buffer, type, ping)));
    }

    /// <summary>Shutdown: Restarting, then the connection closes once written (the client closes its side on it).</summary>
    public void Restart(TimeSpan reconnectIn, TimeSpan tryFor)
    {
        if (_ready)
        {
            var buffer = OutFrame.Rent(RelayProtocol.HeaderSize + 8);
            Queue.EnqueueControl(new OutFrame(buffer, 0, FrameCodec.WriteRestarting(buffer, reconnectIn, tryFor)));
        }

        Queue.Complete();
        StopPause();
        _ = AbortWhenWrittenAsync();
    }

    /// <summary>A reader paused by the rate limit would not notice the connection ending until the pause ends.</summary>
    private void StopPause()
    {
        try
        {
            _stopPause?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the connection has ended
        }
    }

    private async Task AbortWhenWrittenAsync()
    {
        await Sender.Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            // Give the client a moment to close first, so its unread bytes do not turn our close into a reset.
            await Task.Delay(TimeSpan.FromSeconds(2), _server.Time).ConfigureAwait(false);
        }
        finally
        {
            Abort();
        }
    }

    /// <summary>Keepalive when nothing was written for a while; disconnect when a write has stalled.</summary>
    public void Housekeep(long now)
    {
        var options = _server.Options;
        var started = Sender.WriteStartedAt;
        if (started != 0 && _server.Time.GetElapsedTime(started, now) > options.WriteTimeout)
        {
            LogStalled(_logger, Describe());
            Abort();
            return;
        }

        if (_ready && _server.Time.GetElapsedTime(Sender.LastWriteAt, now) >= options.KeepAliveInterval)
        {
            var buffer = OutFrame.Rent(RelayProtocol.HeaderSize);
            Queue.EnqueueControl(new OutFrame(buffer, 0, FrameCodec.WriteEmpty(buffer, FrameType.KeepAlive)));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "relay dropped {Client}: it stopped reading")]
    private static partial void LogStalled(ILogger logger, string client);
}
