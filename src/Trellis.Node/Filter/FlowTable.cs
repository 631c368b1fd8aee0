using Trellis.Core.Control;

namespace Trellis.Node.Filter;

/// <summary>
/// The flows this host opened, so their replies pass the filter: a fixed-capacity hash table whose
/// entries are also kept in order of last use, so that when it is full the longest idle flow makes
/// room, and an entry idle past its protocol's timeout no longer counts. Every array is allocated
/// up front; recording and looking up allocate nothing.
/// </summary>
/// <remarks>
/// Written by the TUN reader (send path) and read by the receive path at the same time: one
/// Monitor guards it (a Monitor blocks without allocating, unlike a Lock's first contended wait).
/// </remarks>
internal sealed class FlowTable
{
    /// <summary>Flows remembered at once: beyond this the longest idle is forgotten.</summary>
    public const int DefaultCapacity = 65_536;

    /// <summary>As long as TCP's own keepalive interval, so a connection that uses keepalives never expires.</summary>
    public static readonly TimeSpan TcpIdleTimeout = TimeSpan.FromHours(2);

    /// <summary>Linux's timeout for a UDP flow that has seen replies; also used for other protocols.</summary>
    public static readonly TimeSpan UdpIdleTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Linux's timeout for ICMP echo: a ping's reply comes within seconds or not at all.</summary>
    public static readonly TimeSpan IcmpIdleTimeout = TimeSpan.FromSeconds(30);

    private const int None = -1;

    private readonly object _sync = new();
    private readonly TimeProvider _time;
    private readonly long _tcpIdleTicks;
    private readonly long _udpIdleTicks;
    private readonly long _icmpIdleTicks;

    // guarded by _sync
    private readonly FlowKey[] _keys;
    private readonly long[] _lastUsed;
    private readonly int[] _buckets; // first entry of each hash bucket, or None
    private readonly int[] _nextInBucket; // also chains the free entries
    private readonly int[] _older;
    private readonly int[] _newer;
    private int _oldest = None;
    private int _newest = None;
    private int _free = None;
    private int _used; // entries ever taken from the never-used tail
    private int _count;

    public FlowTable(TimeProvider time, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        _tcpIdleTicks = Ticks(TcpIdleTimeout);
        _udpIdleTicks = Ticks(UdpIdleTimeout);
        _icmpIdleTicks = Ticks(IcmpIdleTimeout);
        Capacity = capacity;
        _keys = new FlowKey[capacity];
        _lastUsed = new long[capacity];
        _nextInBucket = new int[capacity];
        _older = new int[capacity];
        _newer = new int[capacity];
        _buckets = new int[(int)Math.Min(1 << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity))];
        Array.Fill(_buckets, None);
    }

    public int Capacity { get; }

    /// <summary>Flows held, idle ones not yet reclaimed included.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _count;
            }
        }
    }

    /// <summary>Notes that this host sent a packet of <paramref name="flow"/> now.</summary>
    public void Record(in FlowKey flow)
    {
        var now = _time.GetTimestamp();
        lock (_sync)
        {
            var bucket = Bucket(flow);
            var entry = FindLocked(flow, bucket);
            if (entry == None)
            {
                entry = TakeEntryLocked(now);
                _keys[entry] = flow;
                _nextInBucket[entry] = _buckets[bucket];
                _buckets[bucket] = entry;
                _count++;
            }
            else
            {
                UnlinkAgeLocked(entry);
            }

            _lastUsed[entry] = now;
            LinkNewestLocked(entry);
        }
    }

    /// <summary>Whether <paramref name="flow"/> was recorded and has not been idle past its timeout.</summary>
    public bool Contains(in FlowKey flow)
    {
        var now = _time.GetTimestamp();
        lock (_sync)
        {
            var entry = FindLocked(flow, Bucket(flow));
            return entry != None && now - _lastUsed[entry] <= IdleTicks(flow.Protocol);
        }
    }

    private int Bucket(in FlowKey flow) => flow.GetHashCode() & (_buckets.Length - 1);

    private int FindLocked(in FlowKey flow, int bucket)
    {
        for (var entry = _buckets[bucket]; entry != None; entry = _nextInBucket[entry])
        {
            if (_keys[entry] == flow)
            {
                return entry;
            }
        }

        return None;
    }

    /// <summary>A free entry, reclaiming the longest idle flow when it has expired or the table is full.</summary>
    private int TakeEntryLocked(long now)
    {
        var full = _free == None && _used == Capacity;
        if (_oldest != None && (full || now - _lastUsed[_oldest] > IdleTicks(_keys[_oldest].Protocol)))
        {
            RemoveLocked(_oldest);
        }

        if (_free == None)
        {
            return _used++;
        }

        var entry = _free;
        _free = _nextInBucket[entry];
        return entry;
    }

    private void RemoveLocked(int entry)
    {
        var bucket = Bucket(_keys[entry]);
        if (_buckets[bucket] == entry)
        {
            _buckets[bucket] = _nextInBucket[entry];
        }
        else
        {
            var previous = _buckets[bucket];
            while (_nextInBucket[previous] != entry)
            {
                previous = _nextInBucket[previous];
            }

            _nextInBucket[previous] = _nextInBucket[entry];
        }

        UnlinkAgeLocked(entry);
        _keys[entry] = default;
        _nextInBucket[entry] = _free;
        _free = entry;
        _count--;
    }

    private void UnlinkAgeLocked(int entry)
    {
        var older = _older[entry];
        var newer = _newer[entry];
        if (older == None)
        {
            _oldest = newer;
        }
        else
        {
            _newer[older] = newer;
        }

        if (newer == None)
        {
            _newest = older;
        }
        else
        {
            _older[newer] = older;
        }
    }

    private void LinkNewestLocked(int entry)
    {
        _older[entry] = _newest;
        _newer[entry] = None;
        if (_newest == None)
        {
            _oldest = entry;
        }
        else
        {
            _newer[_newest] = entry;
        }

        _newest = entry;
    }

    private long IdleTicks(byte protocol) => protocol switch
    {
        IpProtocols.Tcp => _tcpIdleTicks,
        IpProtocols.Icmp or IpProtocols.IcmpV6 => _icmpIdleTicks,
        _ => _udpIdleTicks,
    };

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);
}
