using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery;

/// <summary>The direct path packets take now; replaced whole (never mutated) so Send reads it without a lock.</summary>
internal sealed record DirectPath(Endpoint Endpoint, long TrustedUntil, TimeSpan Latency);

/// <summary>What is known of one candidate endpoint of a peer.</summary>
internal sealed class PathInfo
{
    public bool FromMap { get; set; }

    public long LastPingSent { get; set; }

    public long LastPong { get; set; }

    public TimeSpan Latency { get; set; }
}

/// <summary>A ping in flight: for a path (or the relay), maybe awaited by <see cref="DiscoveryBind.PingAsync"/>.</summary>
internal sealed record PendingPing(PeerState Peer, Endpoint Endpoint, bool ViaRelay, long SentAt, TaskCompletionSource<PingResult>? Waiter);

/// <summary>One peer's discovery state.</summary>
internal sealed class PeerState
{
    /// <summary>More candidate paths than this are ignored (a peer cannot grow our state without bound).</summary>
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

    public TimeSpan? RelayLatency { get; set; }

    public long LastPong { get; set; }

    // Read without a lock on the data path.
    private DirectPath? _direct;
    private long _lastActive;

    public DirectPath? Direct
    {
        get => Volatile.Read(ref _direct);
        set => Volatile.Write(ref _direct, value);
    }

    public long LastActive
    {
        get => Volatile.Read(ref _lastActive);
        set => Volatile.Write(ref _lastActive, value);
    }

    /// <summary>Adds a candidate unless there are too many; returns it (null when full).</summary>
    public PathInfo? AddPathLocked(in Endpoint endpoint, bool fromMap)
    {
        if (Paths.TryGetValue(endpoint, out var path))
        {
            path.FromMap |= fromMap;
            return path;
        }

        if (Paths.Count >= MaxPaths || endpoint.Port == 0 || SyntheticEndpoint.IsSynthetic(endpoint))
        {
            return null;
        }

        path = new PathInfo { FromMap = fromMap };
        Paths[endpoint] = path;
        return path;
    }

    /// <summary>Records a ping for each endpoint; the caller sends them once the lock is released.</summary>
    public void PlanPingsLocked(IEnumerable<Endpoint> endpoints, long now, List<(Endpoint, DiscoTxId)> plan)
    {
        foreach (var e in endpoints)
        {
            if (Paths.TryGetValue(e, out var path))
            {
                path.LastPingSent = now;
                plan.Add((e, DiscoTxId.New()));
            }
        }
    }
}
