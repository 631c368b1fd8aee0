using Trellis.Core.Transport;

namespace Trellis.Net;

/// <summary>
/// The datagrams of a merged receive (UDP_GRO) that did not fit the caller's buffers, kept in the
/// bind's own buffer and handed out by the next receive before the socket is read again.
/// </summary>
internal sealed class GroRemainder
{
    private readonly PacketBuffer _buffer = new();
    private int _segmentSize;
    private int _next;

    public bool IsEmpty => _next >= _buffer.Length;

    /// <summary>Copies <paramref name="source"/>'s bytes from <paramref name="from"/> on, datagrams of <paramref name="segmentSize"/>.</summary>
    public void Keep(PacketBuffer source, int from, int segmentSize)
    {
        var length = source.Length - from;
        source.Data.Slice(source.Offset + from, length).CopyTo(_buffer.Data);
        _buffer.Length = length;
        _buffer.Endpoint = source.Endpoint;
        _buffer.Local = source.Local;
        _segmentSize = segmentSize > 0 ? segmentSize : Math.Max(length, 1);
        _next = 0;
    }

    /// <summary>Fills buffers from the front of <paramref name="packets"/> with the kept datagrams, one each; returns how many.</summary>
    public int Drain(Span<PacketBuffer> packets)
    {
        var count = 0;
        while (count < packets.Length && !IsEmpty)
        {
            var length = Math.Min(_segmentSize, _buffer.Length - _next);
            var target = packets[count++];
            _buffer.Data.Slice(_next, length).CopyTo(target.Data);
            target.Offset = 0;
            target.Length = length;
            target.Endpoint = _buffer.Endpoint;
            target.Local = _buffer.Local;
            _next += length;
        }

        return count;
    }
}
