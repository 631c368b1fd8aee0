using System.Buffers;
using System.Runtime.InteropServices;
using Trellis.Core.Transport;

namespace Trellis.WireGuard;

/// <summary>
/// One batch's packet buffers as a single anonymous mapping outside the collector's heap, sliced into
/// <see cref="PacketBuffer.Capacity"/>-byte buffers. A pinned array per buffer kept a resident header
/// page per buffer and the collector's bookkeeping after the batch was let go (about 0.6 MiB a batch,
/// docs/BENCHMARKS.md); here every page of the batch can be given back. Mapped with mmap rather than
/// the C allocator, whose heap may keep a freed block of this size resident. Unmapped only by Dispose,
/// never by a finalizer: a span of a buffer does not keep the slab reachable, and the kernel may be
/// writing through a buffer's address.
/// </summary>
internal sealed unsafe partial class PacketSlab : MemoryManager<byte>
{
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;
    private const int MadvDontNeed = 4;

    private readonly byte* _start;
    private readonly nuint _length;
    private int _unmapped;

    public PacketSlab(int buffers)
    {
        _length = (nuint)buffers * PacketBuffer.Capacity;
        var start = Mmap(0, _length, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (start == -1)
        {
            throw new OutOfMemoryException($"mmap of {_length} bytes for a packet batch failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        _start = (byte*)start;
        Buffers = new PacketBuffer[buffers];
        for (var i = 0; i < buffers; i++)
        {
            Buffers[i] = new PacketBuffer(Memory.Slice(i * PacketBuffer.Capacity, PacketBuffer.Capacity));
        }
    }

    /// <summary>The slab's buffers, in address order.</summary>
    public PacketBuffer[] Buffers { get; }

    /// <summary>Gives every page back to the kernel; the mapping stays, and its pages read as zeros when next touched.</summary>
    public void Release()
    {
        // Advice only: if the kernel refuses, the pages stay resident until the mapping goes.
        _ = Madvise((nint)_start, _length, MadvDontNeed);
    }

    public override Span<byte> GetSpan() => new(_start, checked((int)_length));

    public override MemoryHandle Pin(int elementIndex = 0) => new(_start + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _unmapped, 1) == 0)
        {
            _ = Munmap((nint)_start, _length);
        }
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
