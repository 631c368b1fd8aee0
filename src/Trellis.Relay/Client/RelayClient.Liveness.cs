using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Trellis.Core;
using Trellis.Core.Transport;
using Trellis.Relay.Protocol;

namespace Trellis.Relay.Client;

/// <summary>
/// A relay that keeps the connection up but stops forwarding: sent packets -> nothing back for
/// <see cref="RelayLiveness.PingAfter"/> -> one Ping -> nothing back for <see cref="RelayLiveness.PongTimeout"/>
/// -> the connection is dropped (reconnect, and the node's home moves if it stays down). The send path
/// pays one volatile read per packet; the first unanswered send arms a one-shot timer.
/// </summary>
public sealed partial class RelayClient
{
    private const int Idle = 0;
    private const int Armed = 1;

    // 1 while a check is armed; set by the first unanswered send, cleared by the check
    private int _awaiting;

    // written only by the receive loop
    private long _framesReceived;

    // touched only by the send that arms a check and the checks themselves (one at a time)
    private ITimer? _livenessTimer;
    private long _framesAtArm;
    private ulong _probeData;

    /// <summary>Liveness Pings sent because traffic went unanswered (tests and status).</summary>
    internal long ProbesSent => Interlocked.Read(ref _probesSent);

    /// <summary>Liveness Pings the relay answered.</summary>
    internal long ProbesAnswered => Interlocked.Read(ref _probesAnswered);

    private long _probesSent;
    private long _probesAnswered;

    /// <summary>
    /// Says a reply to something sent elsewhere is expected here (a peer answers through this relay):
    /// when nothing arrives on this connection soon, the relay is pinged as if a packet had been sent through it.
    /// </summary>
    public void ExpectReply()
    {
        if (_current is { } connection)
        {
            NoteSent(connection);
        }
    }

    private void NoteSent(RelayConnection connection)
    {
        if (Volatile.Read(ref _awaiting) == Armed || Interlocked.CompareExchange(ref _awaiting, Armed, Idle) != Idle)
        {
            return;
        }

        Volatile.Write(ref _framesAtArm, Volatile.Read(ref _framesReceived));
        Arm(new LivenessCheck(this, connection, Pinged: false), RelayLiveness.PingAfter);
    }

    private void Arm(LivenessCheck check, TimeSpan due)
    {
        var old = Interlocked.Exchange(ref _livenessTimer, null);
        old?.Dispose();
        if (Volatile.Read(ref _disposed) != 0)
        {
            Volatile.Write(ref _awaiting, Idle);
            return;
        }

        Volatile.Write(ref _livenessTimer, _time.CreateTimer(static s => ((LivenessCheck)s!).Run(), check, due, Timeout.InfiniteTimeSpan));
    }

    private void CheckLiveness(RelayConnection connection, bool pinged)
    {
        var heard = Volatile.Read(ref _framesReceived) != Volatile.Read(ref _framesAtArm);
        if (!ReferenceEquals(_current, connection) || heard)
        {
            Volatile.Write(ref _awaiting, Idle);
            return;
        }

        if (!pinged)
        {
            _probeData = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
            Interlocked.Increment(ref _probesSent);
            SendPing(connection, FrameType.Ping, _probeData);
            Arm(new LivenessCheck(this, connection, Pinged: true), RelayLiveness.PongTimeout);
            return;
        }

        LogStalled(_logger, _options.Url, Durations.Describe(RelayLiveness.PongTimeout));
        Volatile.Write(ref _awaiting, Idle);
        Abort(connection, $"the relay did not answer a ping within {Durations.Describe(RelayLiveness.PongTimeout)} while packets waited");
    }

    /// <summary>Called by the receive loop for every frame.</summary>
    private void NoteReceived() => Volatile.Write(ref _framesReceived, _framesReceived + 1);

    /// <summary>Called by the receive loop for a Pong that is not a <see cref="PingAsync"/> answer.</summary>
    private void NoteProbePong(ulong data)
    {
        if (data == _probeData)
        {
            Interlocked.Increment(ref _probesAnswered);
        }
    }

    private sealed record LivenessCheck(RelayClient Client, RelayConnection Connection, bool Pinged)
    {
        public void Run() => Client.CheckLiveness(Connection, Pinged);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "relay {Url} stays connected but did not answer a ping within {Timeout} while packets waited; reconnecting")]
    private static partial void LogStalled(ILogger logger, Uri url, string timeout);
}
