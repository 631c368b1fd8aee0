using Trellis.Core.Transport;

namespace Trellis.Net;

/// <summary>
/// Which consecutive packets of a send batch can leave as one UDP_SEGMENT send: the same
/// destination and source, every one the size of the first except a last that may be shorter, at
/// most <see cref="MaxSegments"/> of them and <see cref="MaxPayload"/> bytes in all.
/// </summary>
internal static class UdpGsoRun
{
    /// <summary>Segments per send; the kernel's limit (UDP_MAX_SEGMENTS) is 64 on older kernels.</summary>
    public const int MaxSegments = 64;

    /// <summary>The largest UDP payload one send may carry over IPv4 (65535 less IP and UDP headers).</summary>
    public const int MaxPayload = 65535 - 20 - 8;

    /// <summary>Whether a buffer's Offset and Length lie inside its array (a bad one must never become a pointer).</summary>
    public static bool IsWellFormed(PacketBuffer buffer) =>
        (uint)buffer.Offset <= (uint)buffer.Data.Length && (uint)buffer.Length <= (uint)(buffer.Data.Length - buffer.Offset);

    /// <summary>How many packets from the start of <paramref name="packets"/> go as one send (at least 1).</summary>
    public static int Length(ReadOnlySpan<PacketBuffer> packets)
    {
        if (packets.IsEmpty)
        {
            return 0;
        }

        var first = packets[0];
        var size = first.Length;
        if (size <= 0 || size > ushort.MaxValue || !IsWellFormed(first))
        {
            return 1;
        }

        var total = size;
        var count = 1;
        var limit = Math.Min(packets.Length, MaxSegments);
        while (count < limit)
        {
            var next = packets[count];
            if (next.Length <= 0 || next.Length > size || total + next.Length > MaxPayload || !IsWellFormed(next) ||
                next.Endpoint != first.Endpoint || next.Local != first.Local)
            {
                break;
            }

            total += next.Length;
            count++;
            if (next.Length < size)
            {
                break; // only the last segment may be short
            }
        }

        return count;
    }
}
