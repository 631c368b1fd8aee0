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
    private const int ShrinkAbove = 64 * 1024;

    private byte[] _buffer = new byte[InitialBuffer];
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
        EnsureCapacity(_count + bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_count));
        _count += bytes.Length;

        var messages = new List<byte[]>();
        var at = 0;
        while (_count - at >= 4)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(at));
            if (length <= 0)
            {
                throw new InvalidDataException($"control message of {length} bytes");
            }

            if (length > _maxMessage)
            {
                throw new ControlMessageTooLargeException(length, _maxMessage);
            }

            if (_count - at - 4 < length)
            {
                break;
            }

            messages.Add(_buffer.AsSpan(at + 4, length).ToArray());
            at += 4 + length;
        }

        _buffer.AsSpan(at, _count - at).CopyTo(_buffer);
        _count -= at;
        if (_count == 0 && _buffer.Length > ShrinkAbove)
        {
            // One full map grew the buffer; thousands of idle connections must not each keep that size.
            _buffer = new byte[InitialBuffer];
        }

        return messages;
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

        if (needed > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
        }
    }
}
