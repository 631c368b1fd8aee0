using System.Security.Cryptography;
using Trellis.Core.Keys;
using Trellis.Core.Transport;

namespace Trellis.Discovery.PeerRelay;

/// <summary>One side of a pair a peer relay serves: who, where it sends from, and the handle it writes.</summary>
internal sealed class RelayLeg
{
    public RelayLeg(int handle, Key node, Endpoint endpoint, long now)
    {
        Handle = handle;
        Node = node;
        Endpoint = endpoint;
        RefreshedAt = now;
    }

    public int Handle { get; }

    public Key Node { get; }

    // Guarded by RelaySessions' lock.
    public Endpoint Endpoint { get; set; }

    public long RefreshedAt { get; set; }

    public RelayLeg Partner { get; set; } = null!;

    /// <summary>The rate bucket of what this leg sends (the moment it would be full again, GCRA).</summary>
    public long BucketFullAt { get; set; }
}

/// <summary>A grant to send: the leg's handle goes to its node at its endpoint, naming the partner.</summary>
internal readonly record struct RelayGrant(Key To, Endpoint Endpoint, int Handle, Key Peer);

/// <summary>
/// The pairs this node relays for (the relay's side of PeerRelay/). A pair is served only when both
/// of its nodes asked for each other, each from an endpoint this node has proven, within
/// <see cref="PairWithin"/>: one node alone can never make the relay send to a third. Each node of
/// the pair gets its own random handle; a packet is forwarded only under a live handle and only from
/// the endpoint that leg asked from, within the leg's rate. Bounded: <see cref="MaxSessions"/> pairs,
/// <see cref="MaxPending"/> unanswered requests, a pair dropped <see cref="SessionLifetime"/> after
/// either side last asked. Every member takes the one lock: forwarding is a few comparisons, and
/// requests are rare.
/// </summary>
internal sealed class RelaySessions
{
    public const int MaxSessions = 256;
    public const int MaxPending = 1024;

    /// <summary>How long a request waits for the other side's.</summary>
    public static readonly TimeSpan PairWithin = TimeSpan.FromSeconds(10);

    /// <summary>Each side asks again every 10 s while it uses the pair; this many missed and the pair goes.</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromSeconds(35);

    // Slots are the handle's low bits; the rest of the handle is random, so a stale or guessed one misses.
    private const int SlotBits = 9;
    private const int SlotMask = (1 << SlotBits) - 1;

    private readonly object _sync = new();
    private readonly RelayLeg?[] _legs = new RelayLeg?[MaxSessions * 2];
    private readonly Dictionary<(Key From, Key To), RelayLeg> _byPair = [];
    private readonly Dictionary<(Key From, Key To), (Endpoint Endpoint, long At)> _pending = [];
    private readonly long _pairTicks;
    private readonly long _lifetimeTicks;
    private readonly long _frequency;
    private readonly long _bytesPerSecond;
    private readonly long _burstTicks;

    /// <param name="frequency">Timestamp ticks per second.</param>
    /// <param name="bytesPerSecond">What one side of a pair may send through the relay.</param>
    /// <param name="burstBytes">How far above that rate a side may go at once.</param>
    public RelaySessions(long frequency, long bytesPerSecond, long burstBytes)
    {
        _frequency = frequency;
        _bytesPerSecond = bytesPerSecond;
        _burstTicks = burstBytes * frequency / bytesPerSecond;
        _pairTicks = (long)(PairWithin.TotalSeconds * frequency);
        _lifetimeTicks = (long)(SessionLifetime.TotalSeconds * frequency);
    }

    /// <summary>Pairs served now.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _byPair.Count / 2;
            }
        }
    }

    /// <summary>
    /// <paramref name="from"/> (its request came from <paramref name="source"/>, a proven path) asks
    /// to reach <paramref name="to"/>. Adds the grants to send to <paramref name="grants"/>: the
    /// asker's when the pair is served already, both when this request completes the pair, none
    /// when it waits for the other side (or the table is full).
    /// </summary>
    public void Request(Key from, Endpoint source, Key to, long now, List<RelayGrant> grants)
    {
        lock (_sync)
        {
            ExpireLocked(now);
            if (_byPair.TryGetValue((from, to), out var leg))
            {
                leg.Endpoint = source;
                leg.RefreshedAt = now;
                grants.Add(new RelayGrant(from, source, leg.Handle, to));
                return;
            }

            if (_pending.Remove((to, from), out var other) && now - other.At < _pairTicks && FreeSlotLocked() is { } slot)
            {
                var mine = new RelayLeg(NewHandle(slot), from, source, now);
                var theirs = new RelayLeg(NewHandle(slot + 1), to, other.Endpoint, other.At);
                mine.Partner = theirs;
                theirs.Partner = mine;
                _legs[slot] = mine;
                _legs[slot + 1] = theirs;
                _byPair[(from, to)] = mine;
                _byPair[(to, from)] = theirs;
                grants.Add(new RelayGrant(from, source, mine.Handle, to));
                grants.Add(new RelayGrant(to, other.Endpoint, theirs.Handle, from));
                return;
            }

            if (_pending.Count < MaxPending || _pending.ContainsKey((from, to)))
            {
                _pending[(from, to)] = (source, now);
            }
        }
    }

    /// <summary>
    /// Where a packet under <paramref name="handle"/> from <paramref name="source"/> goes, and under
    /// which handle; false (drop it) for an unknown handle, another source, an expired pair or a
    /// side over its rate.
    /// </summary>
    public bool TryForward(int handle, in Endpoint source, int length, long now, out Endpoint destination, out int partnerHandle)
    {
        destination = default;
        partnerHandle = 0;
        lock (_sync)
        {
            var leg = _legs[handle & SlotMask];
            if (leg is null || leg.Handle != handle || leg.Endpoint != source)
            {
                return false;
            }

            var partner = leg.Partner;
            if (now - Math.Min(leg.RefreshedAt, partner.RefreshedAt) > _lifetimeTicks)
            {
                return false;
            }

            // GCRA over bytes: the bucket is full again at BucketFullAt; over the burst, drop.
            var fullAt = Math.Max(leg.BucketFullAt, now);
            if (fullAt - now > _burstTicks)
            {
                return false;
            }

            leg.BucketFullAt = fullAt + (length * _frequency / _bytesPerSecond);
            destination = partner.Endpoint;
            partnerHandle = partner.Handle;
            return true;
        }
    }

    /// <summary>Drops every pair that <paramref name="keep"/> says no longer qualifies (a node left the map).</summary>
    public void Retain(Func<Key, bool> keep)
    {
        lock (_sync)
        {
            foreach (var ((from, to), leg) in _byPair.ToList())
            {
                if (!keep(from) || !keep(to))
                {
                    RemoveLocked(leg);
                }
            }

            foreach (var pair in _pending.Keys.Where(p => !keep(p.From) || !keep(p.To)).ToList())
            {
                _pending.Remove(pair);
            }
        }
    }

    public void Clear()
    {
        lock (_sync)
        {
            Array.Clear(_legs);
            _byPair.Clear();
            _pending.Clear();
        }
    }

    private void ExpireLocked(long now)
    {
        foreach (var leg in _byPair.Values.Where(l => now - Math.Min(l.RefreshedAt, l.Partner.RefreshedAt) > _lifetimeTicks).ToList())
        {
            RemoveLocked(leg);
        }

        foreach (var pair in _pending.Where(p => now - p.Value.At >= _pairTicks).Select(p => p.Key).ToList())
        {
            _pending.Remove(pair);
        }
    }

    private void RemoveLocked(RelayLeg leg)
    {
        foreach (var l in new[] { leg, leg.Partner })
        {
            if (_byPair.TryGetValue((l.Node, l.Partner.Node), out var held) && held == l)
            {
                _byPair.Remove((l.Node, l.Partner.Node));
            }

            var slot = l.Handle & SlotMask;
            if (_legs[slot] == l)
            {
                _legs[slot] = null;
            }
        }
    }

    /// <summary>An even slot whose pair is free: the two legs of a pair sit side by side.</summary>
    private int? FreeSlotLocked()
    {
        for (var slot = 0; slot < _legs.Length; slot += 2)
        {
            if (_legs[slot] is null && _legs[slot + 1] is null)
            {
                return slot;
            }
        }

        return null;
    }

    private static int NewHandle(int slot) => (RandomNumberGenerator.GetInt32(1, (PeerRelayWire.MaxHandle >> SlotBits) + 1) << SlotBits) | slot;
}
