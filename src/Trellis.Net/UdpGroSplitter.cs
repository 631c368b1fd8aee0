using Trellis.Core.Transport;

namespace Trellis.Net;

/// <summary>
/// Turns buffers the kernel merged on receive (UDP_GRO: several same-size datagrams of one sender
/// in one buffer) back into one datagram per buffer, as <see cref="IBind.Receive"/> promises. The
/// merged buffers are received at the front of the caller's span; their datagrams are spread over
/// the rest of it, last message first, so no datagram is overwritten before it is copied out.
/// </summary>
internal static class UdpGroSplitter
{
    /// <summary>How many datagrams a received buffer of <paramref name="length"/> bytes holds; a size of 0 means one.</summary>
    public static int Segments(int length, int segmentSize) =>
        segmentSize <= 0 || length <= segmentSize ? 1 : (int)(((long)length + segmentSize - 1) / segmentSize);

    /// <summary>
    /// Splits the <paramref name="received"/> buffers at the front of <paramref name="packets"/>, each
    /// with its segment size (0 = one datagram), and returns how many datagrams now lie there in order.
    /// What does not fit goes to <paramref name="remainder"/> when it is the end of the last buffer and
    /// the remainder is free; anything else that does not fit is dropped and counted in <paramref name="dropped"/>.
    /// </summary>
    public static int Split(Span<PacketBuffer> packets, int received, ReadOnlySpan<int> segmentSizes, GroRemainder remainder, out int dropped)
    {
        dropped = 0;
        var capacity = packets.Length;
        Span<int> starts = stackalloc int[received];
        var total = 0;
        for (var j = 0; j < received; j++)
        {
            starts[j] = total;
            total += Segments(packets[j].Length, segmentSizes[j]);
        }

        if (total == received)
        {
            return received; // nothing was merged: every buffer is already one datagram in place
        }

        for (var j = received - 1; j >= 0; j--)
        {
            var source = packets[j];
            var size = segmentSizes[j];
            var segments = Segments(source.Length, size);
            var kept = Math.Clamp(capacity - starts[j], 0, segments);
            if (kept < segments)
            {
                if (j == received - 1 && remainder.IsEmpty)
                {
                    remainder.Keep(source, kept * size, size);
                }
                else
                {
                    dropped += segments - kept;
                }
            }

            // Backwards, so that when the first datagram stays in its own buffer it is trimmed last.
            for (var t = kept - 1; t >= 0; t--)
            {
                var from = t * size;
                var length = segments == 1 ? source.Length : Math.Min(size, source.Length - from);
                var target = packets[starts[j] + t];
                if (ReferenceEquals(target, source))
                {
                    source.Length = length;
                    continue;
                }

                source.Data.Slice(source.Offset + from, length).CopyTo(target.Data);
                target.Offset = 0;
                target.Length = length;
                target.Endpoint = source.Endpoint;
                target.Local = source.Local;
            }
        }

        return Math.Min(total, capacity);
    }
}
