using System.Text;

namespace Trellis.WireGuard.Uapi;

/// <summary>
/// Reads <c>\n</c>-terminated lines and single bytes from a stream through one fixed buffer, so a
/// client that never sends a newline costs at most <c>maxLineLength</c> bytes.
/// </summary>
internal sealed class UapiLineReader(Stream stream, int maxLineLength)
{
    private readonly byte[] _buffer = new byte[maxLineLength + 1];
    private int _start;
    private int _end;

    /// <summary>Bytes handed out so far, newlines included.</summary>
    public long Consumed { get; private set; }

    /// <summary>
    /// The next line without its <c>\n</c>, or null at the end of the stream (a final unterminated
    /// fragment is dropped, as wireguard-go drops an unterminated operation line).
    /// </summary>
    /// <exception cref="InvalidDataException">The line is longer than the limit.</exception>
    public async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var scanned = 0;
        while (true)
        {
            var newline = _buffer.AsSpan(_start + scanned, _end - _start - scanned).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var length = scanned + newline;
                var line = Encoding.UTF8.GetString(_buffer, _start, length);
                _start += length + 1;
                Consumed += length + 1;
                return line;
            }

            scanned = _end - _start;
            if (scanned > maxLineLength)
            {
                throw new InvalidDataException($"a configuration line is longer than {maxLineLength} bytes");
            }

            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, scanned);
                _start = 0;
                _end = scanned;
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            _end += read;
        }
    }

    /// <summary>The next byte, or -1 at the end of the stream.</summary>
    public async ValueTask<int> ReadByteAsync(CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            _start = _end = 0;
            var read = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return -1;
            }

            _end = read;
        }

        Consumed++;
        return _buffer[_start++];
    }
}
