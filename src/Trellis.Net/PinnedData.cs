using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Trellis.Core.Transport;

namespace Trellis.Net;

internal static unsafe class PinnedData
{
    /// <summary>
    /// The address of a packet buffer's bytes. Safe to keep across calls because a PacketBuffer's
    /// bytes never move (a pinned array, or native memory).
    /// </summary>
    public static byte* Pointer(PacketBuffer buffer) =>
        (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(buffer.Data));

    /// <summary>The address of element 0 of an array allocated with <c>GC.AllocateArray(pinned: true)</c>.</summary>
    public static T* Pointer<T>(T[] pinnedArray)
        where T : unmanaged =>
        (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinnedArray));
}
