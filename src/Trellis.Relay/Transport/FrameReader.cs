using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Trellis.Relay.Protocol;

namespace Trellis.Relay.Transport;

/// <summary>
/// A frame read from a connection: its payload sits at <see cref="RelayProtocol.PayloadOffset"/> in a
/// rented buffer, leaving room in front to rewrite it in place as another frame. The holder returns
/// the buffer (or hands it on). <see cref="IsEnd"/>: the peer closed between frames.
/// </summary>
internal readonly record struct InFrame(FrameType Type, byte[] Buffer, int Length)
{
    public bool IsEnd => Buffer is null;

    public ReadOnlySpan<byte> Payload => Buffer.AsSpan(RelayProtocol.PayloadOffset, Length);

    public void Return()
    {
        if (Buffer is not null)
        {
            FramePool.Instance.Return(Buffer);
        }
    }
}

/// <summary>
/// Reads frames from a stream, parsing as many frames as one read brings. The client's reader owns
/// its read-ahead buffer; the server's rents one only while it holds unread bytes (ten thousand idle
/// connections should not each hold a buffer): it waits for data with a zero-byte read, then reads
/// a burst, and returns the buffer once drained. A payload's buffer is rented only once its first
/// bytes have arrived, so a peer that sends a header and stalls holds none. One reader at a time.
/// </summary>
internal sealed class FrameReader
{
    private readonly Stream _stream;
    private readonly ArrayPool<byte> _pool;
    private readonly int _readAhead;
    private readonly bool _rentReadAhead;
    private byte[]? _buffer;
    private int _start;
    private int _end;

    /// <param name="pool">Where payload buffers (and a rented read-ahead) are rented; its arrays must be <see cref="FramePool.Instance"/>'s, which every holder returns them to (tests count rents through it).</param>
    /// <param name="rentReadAhead">Hold the read-ahead buffer only while it has unread bytes (the server).</param>
    public FrameReader(Stream stream, int readAhead, ArrayPool<byte>? pool = null, bool rentReadAhead = false)
    {
        _stream = stream;
        _pool = pool ?? FramePool.Instance;
        _readAhead = Math.Max(readAhead, RelayProtocol.HeaderSize);
        _rentReadAhead = rentReadAhead;
        _buffer = rentReadAhead ? null : new byte[_readAhead];
    }

    /// <summary>Whether a whole frame is already read ahead, so the next <see cref="ReadAsync"/> completes without reading the stream.</summary>
    public bool HasBufferedFrame =>
        _buffer is not null
        && FrameCodec.TryReadHeader(_buffer.AsSpan(_start, _end - _start), out _, out var length)
        && length <= (uint)(_end - _start - RelayProtocol.HeaderSize);

    /// <summary>
    /// The next frame. A frame longer than <paramref name="maxLength"/> throws
    /// <see cref="InvalidDataException"/> before anything is rented for it; a connection closed
    /// inside a frame throws <see cref="EndOfStreamException"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<InFrame> ReadAsync(int maxLength = RelayProtocol.MaxFrameLength)
    {
        while (_end - _start < RelayProtocol.HeaderSize)
        {
            if (!await FillAsync().ConfigureAwait(false))
            {
                if (_end == _start)
                {
                    return default;
                }

                throw new EndOfStreamException("the connection closed inside a frame header");
            }
        }

        FrameCodec.TryReadHeader(_buffer.AsSpan(_start, _end - _start), out var type, out var length);
        if (length > (uint)maxLength)
        {
            throw new InvalidDataException($"a {length}-byte {type} frame exceeds the {maxLength}-byte limit");
        }

        _start += RelayProtocol.HeaderSize;
        var payloadLength = (int)length;
        if (payloadLength > 0 && _start == _end)
        {
            // A zero-byte read waits for data without a buffer; the end of the stream shows in the read below.
            ReleaseIfDrained();
            await _stream.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
        }

        var buffer = _pool.Rent(RelayProtocol.PayloadOffset + payloadLength);
        var have = Math.Min(payloadLength, _end - _start);
        if (have > 0)
        {
            _buffer.AsSpan(_start, have).CopyTo(buffer.AsSpan(RelayProtocol.PayloadOffset));
            _start += have;
        }

        ReleaseIfDrained();
        try
        {
            while (have < payloadLength)
            {
                var read = await _stream.ReadAsync(buffer.AsMemory(RelayProtocol.PayloadOffset + have, payloadLength - have)).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException("the connection closed inside a frame");
                }

                have += read;
            }
        }
        catch
        {
            FramePool.Instance.Return(buffer);
            throw;
        }

        return new InFrame(type, buffer, payloadLength);
    }

    /// <summary>One CRLF-terminated ASCII line (the HTTP response before the upgrade), without its CRLF.</summary>
    public async Task<string> ReadLineAsync(int maxLength, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        while (true)
        {
            var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            var take = newline < 0 ? _end - _start : newline;
            line.Append(Encoding.ASCII.GetString(_buffer!, _start, take));
            if (newline >= 0)
            {
                _start += newline + 1;
                return line.ToString().TrimEnd('\r');
            }

            _start = _end;
            if (line.Length > maxLength)
            {
                throw new InvalidDataException($"an HTTP line longer than {maxLength} characters");
            }

            if (!await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new EndOfStreamException("the connection closed inside the HTTP response");
            }
        }
    }

    /// <summary>Up to <paramref name="count"/> bytes as text (the body of a refusal).</summary>
    public async Task<string> ReadTextAsync(int count, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        while (text.Length < count)
        {
            if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                break;
            }

            var take = Math.Min(count - text.Length, _end - _start);
            text.Append(Encoding.UTF8.GetString(_buffer!, _start, take));
            _start += take;
        }

        return text.ToString();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken = default)
    {
        if (_buffer is null)
        {
            // Nothing unread: wait for data without a buffer, then take one for the burst.
            await _stream.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            _buffer = _pool.Rent(_readAhead);
        }
        else if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        _end += read;
        if (read == 0)
        {
            ReleaseIfDrained();
        }

        return read > 0;
    }

    /// <summary>A rented read-ahead goes back to the pool as soon as it holds nothing unread.</summary>
    private void ReleaseIfDrained()
    {
        if (_rentReadAhead && _buffer is not null && _start == _end)
        {
            _pool.Return(_buffer);
            _buffer = null;
            _start = 0;
            _end = 0;
        }
    }
}
