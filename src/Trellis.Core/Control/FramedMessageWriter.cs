using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;

namespace Trellis.Core.Control;

/// <summary>
/// Serializes one control message straight into pooled segments of at most
/// <see cref="MessageFramer.MaxChunk"/> bytes, length prefix included, so a full map of thousands of
/// peers is never one large array: thousands of nodes joining at once must not fill the large-object heap.
/// Segments start small and double: a join sends a delta of a few hundred bytes to every other
/// node at once, and a 64 KiB segment each (more than the pool keeps) made those thousands of
/// in-flight deltas hold hundreds of megabytes, which outlived gen0 and piled up in gen2.
/// Dispose returns the segments to the pool.
/// </summary>
public sealed class FramedMessageWriter : IBufferWriter<byte>, IDisposable
{
    private readonly List<byte[]> _segments = [];
    private readonly List<int> _lengths = [];
    private byte[]? _current;
    private int _used;

    private FramedMessageWriter()
    {
    }

    /// <summary>The framed message as chunks, each ready to be one Noise transport message.</summary>
    public IEnumerable<ReadOnlyMemory<byte>> Chunks
    {
        get
        {
            for (var i = 0; i < _segments.Count; i++)
            {
                yield return _segments[i].AsMemory(0, _lengths[i]);
            }
        }
    }

    public int Length { get; private set; }

    public static FramedMessageWriter Write(ControlMessage message)
    {
        var writer = new FramedMessageWriter();
        writer.GetSpan(4);
        writer.Advance(4); // the length prefix, patched below
        using (var json = new Utf8JsonWriter(writer))
        {
            JsonSerializer.Serialize(json, message, ControlJsonContext.Default.ControlMessage);
        }

        writer.Seal();
        BinaryPrimitives.WriteInt32BigEndian(writer._segments[0], writer.Length - 4);
        return writer;
    }

    public void Advance(int count)
    {
        _used += count;
        Length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _current.AsMemory(_used, Capacity - _used);
    }

    /// <summary>The first segment's size: what Utf8JsonWriter asks for at least, enough for most deltas.</summary>
    private const int FirstSegment = 4096;

    /// <summary>The current segment's usable bytes (the pool may hand out more than asked; a chunk stays within MaxChunk).</summary>
    private int Capacity => Math.Min(_current!.Length, MessageFramer.MaxChunk);

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    private void EnsureRoom(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (needed > MessageFramer.MaxChunk)
        {
            throw new InvalidOperationException($"a single JSON token larger than {MessageFramer.MaxChunk} bytes");
        }

        if (_current is not null && Capacity - _used >= needed)
        {
            return;
        }

        var previous = _current is null ? 0 : Capacity;
        Seal();
        var size = Math.Min(MessageFramer.MaxChunk, Math.Max(needed, previous == 0 ? FirstSegment : previous * 2));
        _current = ArrayPool<byte>.Shared.Rent(size);
        _used = 0;
    }

    private void Seal()
    {
        if (_current is not null)
        {
            _segments.Add(_current);
            _lengths.Add(_used);
            _current = null;
        }
    }

    public void Dispose()
    {
        Seal();
        foreach (var segment in _segments)
        {
            ArrayPool<byte>.Shared.Return(segment);
        }

        _segments.Clear();
        _lengths.Clear();
    }
}
