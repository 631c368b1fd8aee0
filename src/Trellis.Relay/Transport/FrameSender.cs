using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace Trellis.Relay.Transport;

/// <summary>
/// The writer task of one connection: drains its <see cref="SendQueue"/> into the stream, copying
/// small frames into one pooled batch buffer so a burst becomes one write. The batch buffer is held
/// only while there is something to write, so idle connections hold none. A failed write aborts the
/// connection through <c>onFailed</c>; the writer never blocks anyone but its own connection.
/// </summary>
internal sealed class FrameSender
{
    private const int BatchSize = 64 * 1024;

    private readonly Stream _stream;
    private readonly TimeProvider _time;
    private readonly Action _onFailed;
    private long _writeStartedAt;
    private long _lastWriteAt;
    private Task _completion = Task.CompletedTask;

    public FrameSender(Stream stream, SendQueue queue, TimeProvider time, Action onFailed)
    {
        _stream = stream;
        Queue = queue;
        _time = time;
        _onFailed = onFailed;
        _lastWriteAt = time.GetTimestamp();
    }

    public SendQueue Queue { get; }

    /// <summary>Ends when the queue was completed and drained, or a write failed.</summary>
    public Task Completion => _completion;

    /// <summary>When the write in progress started (0: none), for the stalled-writer check.</summary>
    public long WriteStartedAt => Volatile.Read(ref _writeStartedAt);

    public long LastWriteAt => Volatile.Read(ref _lastWriteAt);

    public void Start() => _completion = RunAsync();

    /// <summary>Completes the queue and waits (at most <paramref name="timeout"/>) for what is queued to be written; false on timeout.</summary>
    public async Task<bool> FlushAndStopAsync(TimeSpan timeout)
    {
        Queue.Complete();
        try
        {
            await _completion.WaitAsync(timeout, _time).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            // the peer does not read; the caller aborts the connection
            return false;
        }
    }

    private async Task RunAsync()
    {
        byte[]? batch = null;
        OutFrame current = default;
        try
        {
            while (await Queue.WaitToReadAsync().ConfigureAwait(false))
            {
                var used = 0;
                while (Queue.TryDequeue(out current))
                {
                    if (current.Length > BatchSize / 2)
                    {
                        if (used > 0)
                        {
                            await WriteAsync(batch!.AsMemory(0, used)).ConfigureAwait(false);
                            used = 0;
                        }

                        await WriteAsync(current.Memory).ConfigureAwait(false);
                    }
                    else
                    {
                        batch ??= ArrayPool<byte>.Shared.Rent(BatchSize);
                        if (used + current.Length > batch.Length)
                        {
                            await WriteAsync(batch!.AsMemory(0, used)).ConfigureAwait(false);
                            used = 0;
                        }

                        current.Span.CopyTo(batch.AsSpan(used));
                        used += current.Length;
                    }

                    current.Return();
                    current = default;
                }

                if (used > 0)
                {
                    await WriteAsync(batch!.AsMemory(0, used)).ConfigureAwait(false);
                }

                if (batch is not null && Queue.IsEmpty)
                {
                    ArrayPool<byte>.Shared.Return(batch);
                    batch = null;
                }
            }
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            _onFailed();
        }
        finally
        {
            current.Return();
            if (batch is not null)
            {
                ArrayPool<byte>.Shared.Return(batch);
            }

            Queue.DrainAndReturn();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsync(ReadOnlyMemory<byte> data)
    {
        Volatile.Write(ref _writeStartedAt, _time.GetTimestamp());
        await _stream.WriteAsync(data).ConfigureAwait(false);
        var now = _time.GetTimestamp();
        Volatile.Write(ref _writeStartedAt, 0);
        Volatile.Write(ref _lastWriteAt, now);
    }

    /// <summary>What a broken or closed connection throws (Kestrel's aborts are OperationCanceledExceptions).</summary>
    public static bool IsConnectionError(Exception e) =>
        e is IOException or ObjectDisposedException or OperationCanceledException or WebSocketException or InvalidOperationException;
}
