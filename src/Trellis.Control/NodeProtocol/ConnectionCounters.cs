using Trellis.Core.Control;

namespace Trellis.Control.NodeProtocol;

/// <summary>What happened to node connections since the server started; updated from any connection's thread.</summary>
public sealed class ConnectionCounters
{
    private long _open;
    private long _refusedTotalLimit;
    private long _refusedNetworkLimit;
    private long _handshakeTimeouts;
    private long _idleClosed;
    private long _oversizedMessages;
    private long _registeredActive;
    private long _registeredPending;
    private long _registeredRejected;
    private long _fullMaps;
    private long _fullMapBytes;
    private long _resumes;
    private long _resumeBytes;
    private long _deltas;
    private long _deltaBytes;
    private long _keepalives;
    private long _keepaliveBytes;

    /// <summary>Connections admitted and not yet ended.</summary>
    public long Open => Interlocked.Read(ref _open);

    /// <summary>Refused because the server held its maximum number of connections.</summary>
    public long RefusedTotalLimit => Interlocked.Read(ref _refusedTotalLimit);

    /// <summary>Refused because their address (IPv6: its /64) held its maximum.</summary>
    public long RefusedNetworkLimit => Interlocked.Read(ref _refusedNetworkLimit);

    public long HandshakeTimeouts => Interlocked.Read(ref _handshakeTimeouts);

    /// <summary>Closed after receiving nothing for the idle timeout.</summary>
    public long IdleClosed => Interlocked.Read(ref _idleClosed);

    /// <summary>Closed for a control message longer than the cap (counted before any of its body was buffered).</summary>
    public long OversizedMessages => Interlocked.Read(ref _oversizedMessages);

    /// <summary>Registration answers by <see cref="RegisterStatus"/>: active, pending, rejected.</summary>
    public (long Active, long Pending, long Rejected) Registrations =>
        (Interlocked.Read(ref _registeredActive), Interlocked.Read(ref _registeredPending), Interlocked.Read(ref _registeredRejected));

    /// <summary>Map stream messages sent and their bytes (sealed, as on the WebSocket), by kind.</summary>
    public MapTraffic MapSent => new(
        Interlocked.Read(ref _fullMaps), Interlocked.Read(ref _fullMapBytes),
        Interlocked.Read(ref _resumes), Interlocked.Read(ref _resumeBytes),
        Interlocked.Read(ref _deltas), Interlocked.Read(ref _deltaBytes),
        Interlocked.Read(ref _keepalives), Interlocked.Read(ref _keepaliveBytes));

    internal void Registered(string status)
    {
        switch (status)
        {
            case RegisterStatus.Active:
                Interlocked.Increment(ref _registeredActive);
                break;
            case RegisterStatus.Pending:
                Interlocked.Increment(ref _registeredPending);
                break;
            default:
                Interlocked.Increment(ref _registeredRejected);
                break;
        }
    }

    /// <param name="first">The stream's first message: a delta there answers a node's <see cref="MapResume"/>.</param>
    internal static MapMessageKind KindOf(ControlMessage message, bool first) => message switch
    {
        FullMap => MapMessageKind.FullMap,
        MapDelta when first => MapMessageKind.Resume,
        MapDelta => MapMessageKind.Delta,
        _ => MapMessageKind.Other,
    };

    internal void Sent(MapMessageKind kind, long bytes)
    {
        switch (kind)
        {
            case MapMessageKind.FullMap:
                Interlocked.Increment(ref _fullMaps);
                Interlocked.Add(ref _fullMapBytes, bytes);
                break;
            case MapMessageKind.Resume:
                Interlocked.Increment(ref _resumes);
                Interlocked.Add(ref _resumeBytes, bytes);
                break;
            case MapMessageKind.Delta:
                Interlocked.Increment(ref _deltas);
                Interlocked.Add(ref _deltaBytes, bytes);
                break;
            default:
                Interlocked.Increment(ref _keepalives);
                Interlocked.Add(ref _keepaliveBytes, bytes);
                break;
        }
    }

    internal void Opened() => Interlocked.Increment(ref _open);

    internal void Closed() => Interlocked.Decrement(ref _open);

    internal void RefusedForTotal() => Interlocked.Increment(ref _refusedTotalLimit);

    internal void RefusedForNetwork() => Interlocked.Increment(ref _refusedNetworkLimit);

    internal void HandshakeTimedOut() => Interlocked.Increment(ref _handshakeTimeouts);

    internal void ClosedIdle() => Interlocked.Increment(ref _idleClosed);

    internal void Oversized() => Interlocked.Increment(ref _oversizedMessages);
}

/// <summary>
/// What the map streams have sent since the server started: full maps, resumed sessions' first deltas
/// (instead of a full map), the deltas after them, and the rest (keepalives and closing errors).
/// </summary>
public readonly record struct MapTraffic(long FullMaps, long FullMapBytes, long Resumes, long ResumeBytes, long Deltas, long DeltaBytes, long Keepalives, long KeepaliveBytes);
