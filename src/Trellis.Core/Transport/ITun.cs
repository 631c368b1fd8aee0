namespace Trellis.Core.Transport;

/// <summary>
/// The layer-3 device WireGuard reads plaintext IP packets from and writes them to. Contract:
/// <list type="bullet">
/// <item><see cref="Read"/> is called from one thread, blocks until at least one packet, writes each
/// packet at <c>offset</c> inside its buffer (so the caller keeps headroom for its own header) and
/// sets <c>Offset</c> and <c>Length</c>; it returns 0 once the device is closed.</item>
/// <item><see cref="Write"/> writes each buffer's <c>Packet</c> (a whole IPv4 or IPv6 packet);
/// it is called from one thread at a time.</item>
/// </list>
/// </summary>
public interface ITun : IDisposable
{
    string Name { get; }

    int Mtu { get; }

    int BatchSize { get; }

    int Read(Span<PacketBuffer> packets, int offset);

    void Write(ReadOnlySpan<PacketBuffer> packets);

    /// <summary>Closes the device; a blocked <see cref="Read"/> returns 0.</summary>
    void Close();
}
