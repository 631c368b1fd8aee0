using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery;

/// <summary>
/// The direct path packets take now; replaced whole (never mutated) so Send reads it without a lock.
/// <paramref name="Via"/>: the guess socket that met the peer (see DiscoveryBind.Guess), else null for the main socket.
/// </summary>
/// <param name="Local">Our address the peer's messages on this path arrive at: what packets to it leave from.</param>
internal sealed record DirectPath(Endpoint Endpoint, long TrustedUntil, TimeSpan Latency, IGuessSocket? Via = null, LocalAddress Local = default);

/// <summary>
/// A ping in flight: for a path (or the relay, or a peer relay's <paramref name="Leg"/>), maybe
/// awaited by <see cref="DiscoveryBind.PingAsync"/>.
/// </summary>
internal sealed record PendingPing(PeerState Peer, Endpoint Endpoint, bool ViaRelay, long SentAt, TaskCompletionSource<PingResult>? Waiter, PeerRelayLeg? Leg = null);

/// <summary>
/// A peer relay's grant toward a peer: packets marked with <paramref name="Handle"/> and sent to
/// <paramref name="RelayEndpoint"/> reach it. Trusted while a pong through it is recent; replaced
/// whole (never mutated) so Send reads it without a lock.
/// </summary>
internal sealed record PeerRelayLeg(Key Relay, Endpoint RelayEndpoint, int Handle, long TrustedUntil = 0, TimeSpan Latency = default)
{
    public bool SameGrant(PeerRelayLeg other) => Relay == other.Relay && RelayEndpoint == other.RelayEndpoint && Handle == other.Handle;
}

/// <summary>One peer's discovery state.</summary>
internal sealed class PeerState
{
    /// <summary>Candidate paths kept per peer; beyond it the least recently proven makes room (<see cref="PathInfo.EvictsBefore"/>).</summary>
    public const int MaxPaths = 32;

    public PeerState(int index, Key nodeKey)
    {
        Index = index;
        NodeKey = nodeKey;
        Synthetic = SyntheticEndpoint.For(index);
    }

    public int Index { get; }

    public Key NodeKey { get; }

    public Endpoint Synthetic { get; }

    public object Sync { get; } = new();

    // Guarded by Sync.
    public Key DiscoKey { get; set; }

    public int HomeRelay { get; set; }

    public Dictionary<Endpoint, PathInfo> Paths { get; } = [];

    public long LastRound { get; set; }

    public long LastFullRound { get; set; }

    /// <summary>When the punch window last opened (zero: never); see DiscoveryBind.Punch.</summary>
    public long PunchSince { get; set; }

    public TimeSpan? RelayLatency { get; set; }

    public long LastPong { get; set; }

    /// <summary>True while the map gives this peer's disco key to another peer too (or it is ours): no discovery, relay only.</summary>
    public bool DiscoOff { get; set; }

    /// <summary>When we last offered port guessing to the peer (zero: never); see DiscoveryBind.Guess.</summary>
    public long GuessOfferedAt { get; set; }

    /// <summary>The punch window (its PunchSince) the attempts are counted in, and how many it has had.</summary>
    public long GuessWindow { get; set; }

    public int GuessAttempts { get; set; }

    /// <summary>True once a go answered the latest offer (one spray per offer).</summary>
    public bool GuessAnswered { get; set; }

    /// <summary>When the peer offered port guessing before the map named its public address, and with which disco key (zero: no offer waits).</summary>
    public long GuessOfferHeldAt { get; set; }

    public Key GuessOfferHeldFrom { get; set; }

    /// <summary>When we last opened guess sockets toward the peer (zero: never).</summary>
    public long LastGuessAt { get; set; }

    /// <summary>Our spray toward the peer while it runs.</summary>
    public PortSpray? Spray { get; set; }

    /// <summary>Our guess sockets toward the peer: waiting, or the winner carrying its packets.</summary>
    public GuessSockets? Sockets { get; set; }

    /// <summary>The map says this peer relays for others (see DiscoveryBind.PeerRelay).</summary>
    public bool OffersPeerRelay { get; set; }

    /// <summary>The map says this peer's NAT maps per destination: port guessing may start without rounds of punching first.</summary>
    public bool MappingVaries { get; set; }

    /// <summary>When we last asked a peer relay to carry this peer's packets, and which (zero: never).</summary>
    public long PeerRelayAskedAt { get; set; }

    public Key PeerRelayAskedOf { get; set; }

    /// <summary>Since when <see cref="PeerRelayAskedOf"/> has been asked without a grant (zero: it answered, or not asked yet).</summary>
    public long PeerRelayUnansweredSince { get; set; }

    /// <summary>A request for this peer waits for a proven direct path to <see cref="PeerRelayAskedOf"/>: it goes on the pong that proves one.</summary>
    public bool PeerRelayAwaitsPath { get; set; }

    /// <summary>This peer relays for others, and a request for another peer waits for a proven direct path to it.</summary>
    public bool PathAwaitedForPeerRelay { get; set; }

    /// <summary>As a peer relay: this peer's latest request from an endpoint not proven yet (see <see cref="HeldPeerRelayRequest"/>).</summary>
    public HeldPeerRelayRequest? HeldPeerRelayRequest { get; set; }

    /// <summary>Peer relays that stopped answering for this peer, and when: skipped for a while (null until one fails).</summary>
    public Dictionary<Key, long>? PeerRelaysFailed { get; set; }

    /// <summary>When we last pinged the peer through its peer relay leg.</summary>
    public long LegPingedAt { get; set; }

    /// <summary>Rounds the peer's call-me-maybes may still start.</summary>
    public RoundBudget CallMeMaybeBudget { get; } = new();

    /// <summary>The prompt re-probe after a path change or a new candidate, and how many more may start.</summary>
    public ReprobeSchedule Reprobe { get; } = new();

    public RoundBudget ReprobeBudget { get; } = new();

    // Candidate sightings so far: orders the candidates by when they were last named.
    private long _sightings;

    // Read without a lock on the data path.
    private DirectPath? _direct;
    private PeerRelayLeg? _leg;
    private long _lastActive;
    private long _directPingSince;

    public DirectPath? Direct
    {
        get => Volatile.Read(ref _direct);
        set => Volatile.Write(ref _direct, value);
    }

    /// <summary>The peer relay leg granted toward this peer (written under Sync).</summary>
    public PeerRelayLeg? Leg
    {
        get => Volatile.Read(ref _leg);
        set => Volatile.Write(ref _leg, value);
    }

    public long LastActive
    {
        get => Volatile.Read(ref _lastActive);
        set => Volatile.Write(ref _lastActive, value);
    }

    /// <summary>
    /// When a ping went to the direct path that no pong on it has answered since (zero: none waits);
    /// written under Sync, read by Send (see <see cref="DiscoveryBind.PongOverdueAfter"/>).
    /// </summary>
    public long DirectPingSince
    {
        get => Volatile.Read(ref _directPingSince);
        set => Volatile.Write(ref _directPingSince, value);
    }

    /// <summary>
    /// Adds (or refreshes) a candidate; when the peer has <see cref="MaxPaths"/> already, the first
    /// by <see cref="PathInfo.EvictsBefore"/> other than the current direct path makes room and is
    /// returned in <paramref name="evicted"/>. Null for an endpoint that can be no path.
    /// </summary>
    public PathInfo? AddPathLocked(in Endpoint endpoint, bool fromMap, out Endpoint? evicted)
    {
        evicted = null;
        if (Paths.TryGetValue(endpoint, out var path))
        {
            path.FromMap |= fromMap;
            path.SeenOrder = ++_sightings;
            return path;
        }

        if (endpoint.Port == 0 || SyntheticEndpoint.IsSynthetic(endpoint))
        {
            return null;
        }

        if (Paths.Count >= MaxPaths)
        {
            if (EvictionVictimLocked() is not { } victim)
            {
                return null;
            }

            Paths.Remove(victim);
            evicted = victim;
        }

        path = new PathInfo { FromMap = fromMap, SeenOrder = ++_sightings };
        Paths[endpoint] = path;
        return path;
    }

    private Endpoint? EvictionVictimLocked()
    {
        var direct = Direct?.Endpoint;
        Endpoint? victim = null;
        PathInfo? worst = null;
        foreach (var (e, path) in Paths)
        {
            if (e != direct && (worst is null || PathInfo.EvictsBefore(path, worst)))
            {
                victim = e;
                worst = path;
            }
        }

        return victim;
    }

    /// <summary>Records one ping per distinct known endpoint; the caller sends them once the lock is released.</summary>
    public void PlanPingsLocked(IEnumerable<Endpoint> endpoints, long now, List<(Endpoint Endpoint, DiscoTxId TxId)> plan)
    {
        var start = plan.Count;
        var direct = Direct?.Endpoint;
        foreach (var e in endpoints)
        {
            if (Paths.TryGetValue(e, out var path) && !Planned(plan, start, e))
            {
                path.LastPingSent = now;
                plan.Add((e, DiscoTxId.New()));
                if (e == direct && DirectPingSince == 0)
                {
                    DirectPingSince = now;
                }
            }
        }
    }

    /// <summary>
    /// While the chosen path is IPv4: a ping to every IPv6 candidate not proven now, so an IPv6 path
    /// that opens later (a firewall rule lifted, a route back) is found within a second, not at the
    /// next full re-probe. The bind asks every second while traffic flows: one ping per such
    /// candidate per second (usually one or two; at most <see cref="MaxPaths"/>).
    /// </summary>
    public void PlanUnprovenIPv6Locked(DirectPath direct, long now, long trustTicks, List<(Endpoint Endpoint, DiscoTxId TxId)> plan)
    {
        if (!direct.Endpoint.IsIPv4)
        {
            return;
        }

        var start = plan.Count;
        foreach (var (e, path) in Paths)
        {
            if (!e.IsIPv4 && now - path.LastPong >= trustTicks && !Planned(plan, start, e))
            {
                path.LastPingSent = now;
                plan.Add((e, DiscoTxId.New()));
            }
        }
    }

    /// <summary>
    /// While the chosen path is slow enough that another could beat it (see
    /// <c>DiscoveryBind.CouldBeBeatenLocked</c>): a ping to every other candidate not proven now, so a
    /// path that opens later (a firewall rule lifted, a shorter route) is found at the next heartbeat,
    /// not at the next full re-probe a minute away. Asked with each heartbeat while traffic flows (every
    /// 3 s): at most one ping per candidate per heartbeat, what a pair on the relay spends in its full
    /// rounds; candidates planned already (the unproven IPv6 ones) are not pinged twice.
    /// </summary>
    public void PlanUnprovenLocked(DirectPath direct, long now, long trustTicks, List<(Endpoint Endpoint, DiscoTxId TxId)> plan)
    {
        foreach (var (e, path) in Paths)
        {
            if (e != direct.Endpoint && now - path.LastPong >= trustTicks && !Planned(plan, 0, e))
            {
                path.LastPingSent = now;
                plan.Add((e, DiscoTxId.New()));
            }
        }
    }

    private static bool Planned(List<(Endpoint Endpoint, DiscoTxId TxId)> plan, int start, in Endpoint e)
    {
        for (var i = start; i < plan.Count; i++)
        {
            if (plan[i].Endpoint == e)
            {
                return true;
            }
        }

        return false;
    }
}
