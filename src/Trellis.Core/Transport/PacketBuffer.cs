namespace Trellis.Core.Transport;

/// <summary>
/// One reusable packet slot on the data path. The array is pinned and allocated once, so batched
/// system calls can point at it directly and steady-state traffic allocates nothing.
/// </summary>
public sealed class PacketBuffer
{
    /// <summary>Room for the largest IP packet plus WireGuard's header, padding and tag.</summary>
    public const int Capacity = 65536;

    public PacketBuffer()
    {
        Data = GC.AllocateUninitializedArray<byte>(Capacity, pinned: true);
    }

    public byte[] Data { get; }

    /// <summary>Where the packet starts inside <see cref="Data"/>.</summary>
    public int Offset { get; set; }

    public int Length { get; set; }

    /// <summary>Source (received) or destination (to send) of the packet on the underlay.</summary>
    public Endpoint Endpoint { get; set; }

    /// <summary>
    /// Received: our address the packet was sent to (unknown when the transport cannot tell). To send:
    /// the source address to use; unknown lets the kernel choose. Whoever sets <see cref="Endpoint"/>
    /// to send sets this too.
    /// </summary>
    public LocalAddress Local { get; set; }

    public Span<byte> Packet => Data.AsSpan(Offset, Length);

    /// <summary>Allocates <paramref name="count"/> buffers, once, at start-up.</summary>
    public static PacketBuffer[] AllocateBatch(int count)
    {
        var batch = new PacketBuffer[count];
        for (var i = 0; i < count; i++)
        {
            batch[i] = new PacketBuffer();
        }

        return batch;
    }
}
