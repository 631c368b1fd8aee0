using Trellis.Core.Transport;

namespace Trellis.Net;

/// <summary>
/// The destinations of one UDP socket whose path refused a segmented send (EMSGSIZE: a segment longer
/// than the route's MTU or the path MTU the kernel learned), which are sent one datagram per message
/// while the rest of the socket's peers stay segmented. Keyed by address, not port, as the kernel
/// keeps path MTUs. An entry lapses after <see cref="RetryAfter"/>, as a learned path MTU does
/// (net.ipv4.route.mtu_expires, 10 minutes by default), so a path that recovers gets segmentation
/// back; one that has not costs one more refused send and is added again. Bounded: when full, the
/// oldest entry makes room, and that destination is simply tried segmented again.
/// </summary>
internal sealed class UnsegmentedPaths(TimeProvider time)
{
    public const int Capacity = 64;

    public static readonly TimeSpan RetryAfter = TimeSpan.FromMinutes(10);

    // Guarded by _lock: the entries (an Endpoint is too wide to read while another thread writes it).
    private readonly Lock _lock = new();
    private readonly UInt128[] _addresses = new UInt128[Capacity];
    private readonly uint[] _scopes = new uint[Capacity];
    private readonly long[] _refusedAt = new long[Capacity];

    // Written under _lock; read without it, so a socket with no refused path never takes the lock.
    private volatile int _count;

    /// <summary>How many destinations are sent unsegmented now (expired entries count until next looked up).</summary>
    public int Count => _count;

    /// <summary>Whether segmented sends to <paramref name="destination"/>'s address are off; drops its entry once expired.</summary>
    public bool Contains(Endpoint destination)
    {
        if (_count == 0)
        {
            return false;
        }

        var now = time.GetTimestamp();
        lock (_lock)
        {
            var i = IndexOfLocked(destination);
            if (i < 0)
            {
                return false;
            }

            if (time.GetElapsedTime(_refusedAt[i], now) < RetryAfter)
            {
                return true;
            }

            RemoveLocked(i);
            return false;
        }
    }

    /// <summary>Turns segmented sends to <paramref name="destination"/>'s address off for <see cref="RetryAfter"/> from now.</summary>
    public void Add(Endpoint destination)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            var i = IndexOfLocked(destination);
            if (i < 0 && _count < Capacity)
            {
                i = _count++;
            }
            else if (i < 0)
            {
                i = OldestLocked();
            }

            _addresses[i] = destination.Address;
            _scopes[i] = destination.ScopeId;
            _refusedAt[i] = now;
        }
    }

    private int IndexOfLocked(Endpoint destination)
    {
        var count = _count;
        for (var i = 0; i < count; i++)
        {
            if (_addresses[i] == destination.Address && _scopes[i] == destination.ScopeId)
            {
                return i;
            }
        }

        return -1;
    }

    private int OldestLocked()
    {
        var oldest = 0;
        for (var i = 1; i < _count; i++)
        {
            if (_refusedAt[i] - _refusedAt[oldest] < 0)
            {
                oldest = i;
            }
        }

        return oldest;
    }

    private void RemoveLocked(int i)
    {
        var last = _count - 1;
        _addresses[i] = _addresses[last];
        _scopes[i] = _scopes[last];
        _refusedAt[i] = _refusedAt[last];
        _count = last;
    }
}
