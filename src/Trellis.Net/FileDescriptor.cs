namespace Trellis.Net;

/// <summary>
/// A reference-counted file descriptor. A thread blocked in a system call holds a reference, so
/// closing from another thread never lets the number be reused under it: the descriptor is closed
/// when the last user leaves. Unlike SafeHandle, acquiring after close fails quietly (no exception
/// on the close path of a receive loop).
/// </summary>
internal sealed class FileDescriptor : IDisposable
{
    private const int ClosedBit = 1;
    private const int OneReference = 2;

    private int _state; // references * 2, plus ClosedBit once disposal was requested
    private int _released;

    public FileDescriptor(int fd)
    {
        Value = fd;
    }

    ~FileDescriptor()
    {
        CloseNow();
    }

    public int Value { get; }

    public bool IsClosed => (Volatile.Read(ref _state) & ClosedBit) != 0;

    /// <summary>Takes a reference for the duration of a call; false once disposal was requested.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            var s = Volatile.Read(ref _state);
            if ((s & ClosedBit) != 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _state, s + OneReference, s) == s)
            {
                return true;
            }
        }
    }

    public void Release()
    {
        if (Interlocked.Add(ref _state, -OneReference) == ClosedBit)
        {
            CloseNow();
        }
    }

    /// <summary>Requests close; the descriptor is closed now, or when the last reference is released.</summary>
    public void Dispose()
    {
        var before = Interlocked.Or(ref _state, ClosedBit);
        if (before == 0)
        {
            CloseNow();
        }
    }

    private void CloseNow()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            // close(2) is not retried on EINTR: on Linux the descriptor is gone either way.
            _ = Libc.close(Value);
            GC.SuppressFinalize(this);
        }
    }
}
