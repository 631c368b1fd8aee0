namespace Trellis.Core.Transport;

/// <summary>
/// The packet transport under WireGuard: today one dual-stack UDP socket, later the discovery layer
/// (UDP plus relays). Contract:
/// <list type="bullet">
/// <item><see cref="Receive"/> is called from one thread at a time and blocks until at least one
/// packet arrives; it returns 0 once the bind is closed, and never throws for a bad packet.</item>
/// <item><see cref="Send"/> may be called from several threads; a destination that cannot be reached
/// drops that packet (counted), it does not throw.</item>
/// <item>Packets are delivered whole, one datagram per buffer, starting at offset 0.</item>
/// </list>
/// Defined in Core so that Net implements it without referencing WireGuard.
/// </summary>
public interface IBind : IDisposable
{
    /// <summary>Most packets one <see cref="Receive"/> or <see cref="Send"/> handles.</summary>
    int BatchSize { get; }

    /// <summary>The bound UDP port, 0 when closed.</summary>
    ushort Port { get; }

    /// <summary>Opens (or reopens) the transport on <paramref name="port"/> (0 = any) and returns the port bound.</summary>
    ushort Open(ushort port);

    /// <summary>Sets the firewall mark on outgoing packets (0 clears it).</summary>
    void SetMark(uint mark);

    /// <summary>Closes the transport; a blocked <see cref="Receive"/> returns 0.</summary>
    void Close();

    /// <summary>Fills up to <c>packets.Length</c> buffers (Offset 0, Length, Endpoint = source); returns the count, 0 when closed.</summary>
    int Receive(Span<PacketBuffer> packets);

    /// <summary>Sends each buffer's <c>Packet</c> to its <c>Endpoint</c>.</summary>
    void Send(ReadOnlySpan<PacketBuffer> packets);
}
