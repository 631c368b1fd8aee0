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
/// pays one volatile read per packet; the first unanswered send arms a one-shot timer. A frame heard by
/// the check's deadline ends it there; the Ping's answer ends it at once.
/// </summary>
public sealed partial class RelayClient
{
    private const int Idle = 0;
    private const int Armed = 1;

    // 1 while a check is armed; set by the first unanswered send, cleared when the check ends
    private int _awaiting;

    // written only by the receive loop
    private long _framesReceived;

    // The arming, the checks and the answered probe; rare, so they take a lock (the send path does not).
    private readonly Lock _liveness = new();

    // guarded by _liveness: a check acts only while it is the armed one, so a timer that fired as
    // its check was ended (or replaced) does nothing
    private LivenessCheck? _check;
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

        lock (_liveness)
        {
            _framesAtArm = Volatile.Read(ref _framesReceived);
            ArmLocked(connection, pinged: false, RelayLiveness.PingAfter);
        }
    }

    /// <summary>The armed check's timer, taken for disposal (the client is closing).</summary>
    private ITimer? TakeLivenessTimer()
    {
        lock (_liveness)
        {
            _check = null;
            var timer = _livenessTimer;
            _livenessTimer = null;
            return timer;
        }
    }

    private void ArmLocked(RelayConnection connection, bool pinged, TimeSpan due)
    {
        _livenessTimer?.Dispose();
        _livenessTimer = null;
        _check = null;
        if (Volatile.Read(ref _disposed) != 0)
        {
            Volatile.Write(ref _awaiting, Idle);
            return;
        }

        _check = new LivenessCheck(this, connection, pinged);
        _livenessTimer = _time.CreateTimer(static s => ((LivenessCheck)s!).Run(), _check, due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Ends the armed check (the next unanswered send arms a new one).</summary>
    private void EndCheckLocked()
    {
        _check = null;
        _livenessTimer?.Dispose();
        _livenessTimer = null;
        Volatile.Write(ref _awaiting, Idle);
    }

    private void CheckLiveness(LivenessCheck check)
    {
        lock (_liveness)
        {
            if (!ReferenceEquals(check, _check))
            {
                return;
            }

            var heard = Volatile.Read(ref _framesReceived) != _framesAtArm;
            if (!ReferenceEquals(_current, check.Connection) || heard)
            {
                EndCheckLocked();
                return;
            }

            if (!check.Pinged)
            {
                _probeData = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
                Interlocked.Increment(ref _probesSent);
                SendPing(check.Connection, FrameType.Ping, _probeData);
                ArmLocked(check.Connection, pinged: true, RelayLiveness.PongTimeout);
                return;
            }

            EndCheckLocked();
        }

        LogStalled(_logger, _options.Url, Durations.Describe(RelayLiveness.PongTimeout));
        Abort(check.Connection, $"the relay did not answer a ping within {Durations.Describe(RelayLiveness.PongTimeout)} while packets waited");
    }

    /// <summary>Called by the receive loop for every frame.</summary>
    private void NoteReceived() => Volatile.Write(ref _framesReceived, _framesReceived + 1);

    /// <summary>
    /// Called by the receive loop for a Pong that is not a <see cref="PingAsync"/> answer. The answer
    /// ends the check at once rather than at its deadline, so a relay that stalls right after it is
    /// found within one <see cref="RelayLiveness.PingAfter"/> and <see cref="RelayLiveness.PongTimeout"/>
    /// of the next send, not up to a further deadline later.
    /// </summary>
    private void NoteProbePong(ulong data)
    {
        lock (_liveness)
        {
            if (_check is not { Pinged: true } || data != _probeData)
            {
                return;
            }

            EndCheckLocked();

            // counted after the check ended, so whoever sees the count sees the check gone
            Interlocked.Increment(ref _probesAnswered);
        }
    }

    /// <summary>One armed check; compared by reference (a class, not a record), so a new check never passes for an old one.</summary>
    private sealed class LivenessCheck(RelayClient client, RelayConnection connection, bool pinged)
    {
        public RelayConnection Connection { get; } = connection;

        public bool Pinged { get; } = pinged;

        public void Run() => client.CheckLiveness(this);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "relay {Url} stays connected but did not answer a ping within {Timeout} while packets waited; reconnecting")]
    private static partial void LogStalled(ILogger logger, Uri url, string timeout);
}
