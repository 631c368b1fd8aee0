using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;

namespace Trellis.Core.Control;

/// <summary>
/// Control messages as a byte stream: a 4-byte big-endian length, then the JSON. The stream is cut
/// into Noise messages of at most <see cref="MaxChunk"/> bytes, so a full map of thousands of peers
/// crosses the 64 KiB Noise limit; the reader reassembles and bounds what it will hold.
/// </summary>
public sealed class MessageFramer
{
    /// <summary>Plaintext per Noise transport message (65535 minus the 16-byte tag).</summary>
    public const int MaxChunk = 65535 - 16;

    /// <summary>Largest single message a node accepts from its server (a full map of ~50,000 peers fits).</summary>
    public const int DefaultMaxMessage = 32 * 1024 * 1024;

    /// <summary>
    /// Largest single message the server accepts from a node. A node's largest message is a register
    /// or route advertisement of 1,024 prefixes (about 45 KiB), so this leaves room to grow while no
    /// stranger with a fresh machine key can make the server buffer megabytes per connection.
    /// </summary>
    public const int MaxNodeMessage = 1024 * 1024;

    private readonly int _maxMessage;
    private const int InitialBuffer = 4096;

    /// <summary>Up to this size the partial-message buffer comes from the shared pool; a larger one (a full map) is allocated and dropped.</summary>
    private const int PooledUpTo = 64 * 1024;

    // Only the bytes of a message not yet complete: a connection between messages (most of a server's
    // thousands, always, as a node's messages arrive whole) holds no buffer.
    private byte[] _buffer = [];
    private int _count;

    public MessageFramer(int maxMessage = DefaultMaxMessage) => _maxMessage = maxMessage;

    /// <summary>The framed bytes of one message (length prefix included).</summary>
    public static byte[] Encode(ControlMessage message)
    {
        using var writer = FramedMessageWriter.Write(message);
        var framed = new byte[writer.Length];
        var at = 0;
        foreach (var chunk in writer.Chunks)
        {
            chunk.Span.CopyTo(framed.AsSpan(at));
            at += chunk.Length;
        }

        return framed;
    }

    /// <summary>Splits framed bytes into chunks that each fit one Noise transport message.</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> Chunks(byte[] framed)
    {
        for (var at = 0; at < framed.Length; at += MaxChunk)
        {
            yield return framed.AsMemory(at, Math.Min(MaxChunk, framed.Length - at));
        }
    }

    /// <summary>
    /// Adds decrypted bytes and returns the messages now complete. Throws <see cref="InvalidDataException"/>
    /// for a malformed message and <see cref="ControlMessageTooLargeException"/> for an oversized one (as
    /// soon as its length prefix arrives): the channel is then unusable and must be closed.
    /// </summary>
    public List<ControlMessage> Add(ReadOnlySpan<byte> bytes)
    {
        var messages = new List<ControlMessage>();
        foreach (var json in AddRaw(bytes))
        {
            messages.Add(Decode(json));
        }

        return messages;
    }

    /// <summary>Like <see cref="Add"/>, but returns each complete message's JSON undecoded.</summary>
    public List<byte[]> AddRaw(ReadOnlySpan<byte> bytes)
    {
        var messages = new List<byte[]>();
        if (_count == 0)
        {
            // Nothing held: the messages are read straight from the input, only a partial tail is kept.
            var used = TakeMessages(bytes, messages);
            Keep(bytes[used..]);
            return messages;
        }

        EnsureCapacity(_count + bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_count));
        _count += bytes.Length;
        var at = TakeMessages(_buffer.AsSpan(0, _count), messages);
        _buffer.AsSpan(at, _count - at).CopyTo(_buffer);
        _count -= at;
        if (_count == 0)
        {
            Release();
        }

        return messages;
    }

    /// <summary>Adds each complete message at the start of <paramref name="stream"/>; returns the bytes they took.</summary>
    private int TakeMessages(ReadOnlySpan<byte> stream, List<byte[]> messages)
    {
        var at = 0;
        while (stream.Length - at >= 4)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(stream[at..]);
            if (length <= 0)
            {
                throw new InvalidDataException($"control message of {length} bytes");
            }

            if (length > _maxMessage)
            {
                throw new ControlMessageTooLargeException(length, _maxMessage);
            }

            if (stream.Length - at - 4 < length)
            {
                break;
            }

            messages.Add(stream.Slice(at + 4, length).ToArray());
            at += 4 + length;
        }

        return at;
    }

    private void Keep(ReadOnlySpan<byte> partial)
    {
        if (partial.IsEmpty)
        {
            return;
        }

        EnsureCapacity(partial.Length);
        partial.CopyTo(_buffer);
        _count = partial.Length;
    }

    private void Release()
    {
        if (_buffer.Length is > 0 and <= PooledUpTo)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = [];
    }

    public static ControlMessage Decode(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, ControlJsonContext.Default.ControlMessage)
                   ?? throw new InvalidDataException("control message is JSON null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"control message is not valid: {e.Message}", e);
        }
        catch (NotSupportedException e)
        {
            throw new InvalidDataException($"control message has an unknown type: {e.Message}", e);
        }
    }

    private void EnsureCapacity(int needed)
    {
        if (needed > _maxMessage + 4 + MaxChunk)
        {
            throw new InvalidDataException($"control stream buffered more than {_maxMessage} bytes");
        }

        if (needed <= _buffer.Length)
        {
            return;
        }

        // Grown by what arrived, not by what the length prefix announces: a peer that announces a
        // large message and sends little makes the server hold little.
        var size = Math.Max(needed, Math.Max(InitialBuffer, _buffer.Length * 2));
        var grown = size <= PooledUpTo ? ArrayPool<byte>.Shared.Rent(size) : new byte[size];
        _buffer.AsSpan(0, _count).CopyTo(grown);
        Release();
        _buffer = grown;
    }
}
