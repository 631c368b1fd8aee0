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

    internal void Opened() => Interlocked.Increment(ref _open);

    internal void Closed() => Interlocked.Decrement(ref _open);

    internal void RefusedForTotal() => Interlocked.Increment(ref _refusedTotalLimit);

    internal void RefusedForNetwork() => Interlocked.Increment(ref _refusedNetworkLimit);

    internal void HandshakeTimedOut() => Interlocked.Increment(ref _handshakeTimeouts);

    internal void ClosedIdle() => Interlocked.Increment(ref _idleClosed);

    internal void Oversized() => Interlocked.Increment(ref _oversizedMessages);
}
