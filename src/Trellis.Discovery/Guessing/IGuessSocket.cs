using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>
/// An extra IPv4 UDP socket a node behind a NAT that maps per destination opens while guessing
/// ports: each one it sends from gets a mapping of its own, and the one a peer's probe meets then
/// carries that peer's packets.
/// </summary>
public interface IGuessSocket : IDisposable
{
    /// <summary>Sends one datagram; safe from any thread, and allocation-free once a destination has been used.</summary>
    void Send(in Endpoint destination, ReadOnlySpan<byte> datagram);
}

/// <summary>Called (on the socket's own receive callback) with each datagram arriving on a guess socket.</summary>
public delegate void GuessDatagramHandler(IGuessSocket socket, ReadOnlySpan<byte> datagram, Endpoint source);

/// <summary>Opens guess sockets.</summary>
public interface IGuessSocketFactory
{
    /// <summary>A new socket on an ephemeral port delivering to <paramref name="onDatagram"/>; null when the host will not give one more.</summary>
    IGuessSocket? Open(GuessDatagramHandler onDatagram);
}
