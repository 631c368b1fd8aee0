using Trellis.Core.Transport;

namespace Trellis.Discovery.Tests;

/// <summary>
/// A node's socket, watched so a test knows when the node has handled everything sent to it: the
/// receive thread is back waiting on the socket and has taken every datagram delivered to it
/// (<see cref="Idle"/>). Advancing a fake clock before that would time a late answer wrongly.
/// </summary>
internal class WatchedBind : IBind
{
    private readonly IBind _inner;
    private readonly Func<long> _delivered;

    // Written only by the receive thread: datagrams it has taken, and whether it now waits for more.
    private long _taken;
    private int _waiting;
    private int _closed;

    protected WatchedBind(IBind inner, Func<long> delivered)
    {
        _inner = inner;
        _delivered = delivered;
    }

    /// <summary>Watches a socket that is woken with a datagram, or by a call if it is an <see cref="IWakeableBind"/>.</summary>
    public static WatchedBind Of(IBind inner, Func<long> delivered) =>
        inner is IWakeableBind wakeable ? new Wakeable(wakeable, delivered) : new WatchedBind(inner, delivered);

    /// <summary>Datagrams delivered to the socket so far (every datagram the network queued for it).</summary>
    public long Delivered => _delivered();

    /// <summary>The receive thread waits on the socket with every delivered datagram handled (or the socket is closed).</summary>
    public bool Idle => Volatile.Read(ref _closed) == 1 || (Volatile.Read(ref _waiting) == 1 && Interlocked.Read(ref _taken) == _delivered());

    public int BatchSize => _inner.BatchSize;

    public ushort Port => _inner.Port;

    public ushort Open(ushort port) => _inner.Open(port);

    public void SetMark(uint mark) => _inner.SetMark(mark);

    public void Close()
    {
        Volatile.Write(ref _closed, 1);
        _inner.Close();
    }

    public int Receive(Span<PacketBuffer> packets)
    {
        // Called again only once the previous batch is handled: the node is idle while it waits here.
        Volatile.Write(ref _waiting, 1);
        var n = _inner.Receive(packets);

        // Busy before the count moves, so nobody sees the new datagrams counted but not yet handled as idle.
        Volatile.Write(ref _waiting, 0);
        Interlocked.Add(ref _taken, n);
        return n;
    }

    public void Send(ReadOnlySpan<PacketBuffer> packets) => _inner.Send(packets);

    public void Dispose()
    {
        Volatile.Write(ref _closed, 1);
        _inner.Dispose();
    }

    private sealed class Wakeable(IWakeableBind inner, Func<long> delivered) : WatchedBind(inner, delivered), IWakeableBind
    {
        public void WakeReceiver() => inner.WakeReceiver();
    }
}
