using Trellis.Core.Transport;

namespace Trellis.WireGuard;

/// <summary>
/// Per-source token buckets for handshake messages under load (20 per second, burst 5). IPv4 sources
/// are limited per address, IPv6 per /64, since one host can use a whole /64.
/// </summary>
internal sealed class RateLimiter
{
    private const long PacketCost = 1_000_000_000 / Constants.RateLimitPacketsPerSecond; // ns
    private const long MaxTokens = PacketCost * Constants.RateLimitBurst;
    private static readonly TimeSpan GarbageCollectAfter = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    // guarded by _lock
    private readonly Dictionary<UInt128, Entry> _entries = [];
    private long _lastCollect;

    public RateLimiter(TimeProvider time)
    {
        _time = time;
        _lastCollect = time.GetTimestamp();
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public bool Allow(in Endpoint source)
    {
        var key = source.IsIPv4 ? source.Address : source.Address & ~(UInt128)ulong.MaxValue;
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_time.GetElapsedTime(_lastCollect, now) > GarbageCollectAfter)
            {
                CollectLocked(now);
            }

            if (!_entries.TryGetValue(key, out var entry))
            {
                _entries[key] = new Entry { Tokens = MaxTokens - PacketCost, LastTime = now };
                return true;
            }

            var elapsedNs = (long)_time.GetElapsedTime(entry.LastTime, now).TotalNanoseconds;
            entry.Tokens = Math.Min(MaxTokens, entry.Tokens + elapsedNs);
            entry.LastTime = now;
            if (entry.Tokens < PacketCost)
            {
                return false;
            }

            entry.Tokens -= PacketCost;
            return true;
        }
    }

    private void CollectLocked(long now)
    {
        _lastCollect = now;
        List<UInt128>? stale = null;
        foreach (var (key, entry) in _entries)
        {
            if (_time.GetElapsedTime(entry.LastTime, now) > GarbageCollectAfter)
            {
                (stale ??= []).Add(key);
            }
        }

        if (stale is not null)
        {
            foreach (var key in stale)
            {
                _entries.Remove(key);
            }
        }
    }

    private sealed class Entry
    {
        public long Tokens;
        public long LastTime;
    }
}
