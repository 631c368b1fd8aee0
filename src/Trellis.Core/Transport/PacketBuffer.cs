using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Trellis.Core.Transport;

/// <summary>
/// One reusable packet slot on the data path. Its bytes never move (a pinned array of its own, or its
/// batch's slice of native memory), so batched system calls can point at them directly and
/// steady-state traffic allocates nothing.
/// </summary>
public sealed unsafe class PacketBuffer
{
    /// <summary>Room for the largest IP packet plus WireGuard's header, padding and tag.</summary>
    public const int Capacity = 65536;

    // Keeps the bytes alive as long as the buffer: its own pinned array, or the slab its batch shares.
    private readonly Memory<byte> _memory;
    private readonly byte* _start;

    public PacketBuffer()
        : this(GC.AllocateUninitializedArray<byte>(Capacity, pinned: true))
    {
    }

    /// <param name="memory">
    /// <see cref="Capacity"/> bytes that never move: a pinned array, or memory a <c>MemoryManager</c>
    /// holds outside the collector's heap.
    /// </param>
    public PacketBuffer(Memory<byte> memory)
    {
        if (memory.Length != Capacity)
        {
            throw new ArgumentException($"A packet buffer is {Capacity} bytes, not {memory.Length}.", nameof(memory));
        }

        _memory = memory;
        _start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(memory.Span));
    }

    public Span<byte> Data => new(_start, Capacity);

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

    public Span<byte> Packet => Data.Slice(Offset, Length);

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
