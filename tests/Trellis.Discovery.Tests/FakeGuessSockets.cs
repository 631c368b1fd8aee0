using System.Collections.Concurrent;
using Trellis.Core.Transport;

namespace Trellis.Discovery.Tests;

/// <summary>Guess sockets that record what is sent through them; the test delivers datagrams to them by hand.</summary>
internal sealed class FakeGuessSockets : IGuessSocketFactory
{
    public ConcurrentQueue<FakeGuessSocket> Opened { get; } = new();

    public IGuessSocket? Open(GuessDatagramHandler onDatagram)
    {
        var socket = new FakeGuessSocket(onDatagram);
        Opened.Enqueue(socket);
        return socket;
    }

    public int OpenCount => Opened.Count(s => !s.Disposed);
}

internal sealed class FakeGuessSocket(GuessDatagramHandler onDatagram) : IGuessSocket
{
    private volatile bool _disposed;

    public ConcurrentQueue<(Endpoint Destination, byte[] Data)> Sent { get; } = new();

    public bool Disposed => _disposed;

    public void Send(in Endpoint destination, ReadOnlySpan<byte> datagram)
    {
        if (!_disposed)
        {
            Sent.Enqueue((destination, datagram.ToArray()));
        }
    }

    /// <summary>A datagram arriving from <paramref name="source"/>, handled on the caller's thread as the socket's own callback would be.</summary>
    public void Deliver(ReadOnlySpan<byte> datagram, Endpoint source)
    {
        if (!_disposed)
        {
            onDatagram(this, datagram, source);
        }
    }

    public void Dispose() => _disposed = true;
}
