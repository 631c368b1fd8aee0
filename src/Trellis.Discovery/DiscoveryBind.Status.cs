using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery;

/// <summary>What the node's status and <c>trellis ping</c> see.</summary>
public sealed partial class DiscoveryBind
{
    public IReadOnlyList<PeerPathStatus> GetStatus() => _table.ByNodeKey.Values.Select(StatusOf).ToList();

    public PeerPathStatus? GetStatus(Key nodeKey) => _table.ByNodeKey.TryGetValue(nodeKey, out var peer) ? StatusOf(peer) : null;

    private PeerPathStatus StatusOf(PeerState peer)
    {
        var now = _time.GetTimestamp();
        var region = RelayRegionOf(peer);
        var code = _regionCodes.GetValueOrDefault(region);
        lock (peer.Sync)
        {
            DateTimeOffset? lastPong = peer.LastPong == 0 ? null : _time.GetUtcNow() - _time.GetElapsedTime(peer.LastPong, now);
            if (peer.Direct is { } d && now < d.TrustedUntil)
            {
                return new PeerPathStatus(peer.NodeKey, peer.Synthetic, PathKind.Direct, d.Endpoint, region, code, d.Latency, lastPong);
            }

            if (peer.Leg is { } leg && now < leg.TrustedUntil)
            {
                return new PeerPathStatus(peer.NodeKey, peer.Synthetic, PathKind.PeerRelay, leg.RelayEndpoint, region, code, leg.Latency, lastPong, leg.Relay);
            }

            if (RelayingRegion(peer) is { } via)
            {
                return new PeerPathStatus(peer.NodeKey, peer.Synthetic, PathKind.Relay, null, via, _regionCodes.GetValueOrDefault(via), peer.RelayLatency, lastPong);
            }

            return new PeerPathStatus(peer.NodeKey, peer.Synthetic, PathKind.None, null, region, code, null, lastPong);
        }
    }

    /// <summary>When a pong last proved one candidate of the peer, and how many round trips judge it (tests wait on it).</summary>
    internal (DateTimeOffset? LastPong, int Samples) CandidateOf(Key nodeKey, Endpoint endpoint)
    {
        if (!_table.ByNodeKey.TryGetValue(nodeKey, out var peer))
        {
            return (null, 0);
        }

        var now = _time.GetTimestamp();
        lock (peer.Sync)
        {
            return peer.Paths.TryGetValue(endpoint, out var path) && path.LastPong != 0
                ? (_time.GetUtcNow() - _time.GetElapsedTime(path.LastPong, now), path.Rtts.Count)
                : (null, 0);
        }
    }

    private int RelayRegionOf(PeerState peer) => peer.HomeRelay != 0 ? peer.HomeRelay : _relay?.RegionId ?? 0;

    /// <summary>
    /// The region that carries packets to the peer now (it differs from the peer's home while that
    /// one connects); null when no relay connection would carry them.
    /// </summary>
    private int? RelayingRegion(PeerState peer) =>
        _relay?.RegionFor(peer.NodeKey) is { } via ? (via != 0 ? via : RelayRegionOf(peer)) : null;

    /// <summary>
    /// Pings the peer on every path at once (each direct candidate and the relay) and returns the
    /// first to answer; null when the peer is unknown or has no disco key of its own. Waits until <paramref name="cancellationToken"/>.
    /// </summary>
    public async Task<PingResult?> PingAsync(Key nodeKey, CancellationToken cancellationToken)
    {
        if (!_table.ByNodeKey.TryGetValue(nodeKey, out var peer))
        {
            return null;
        }

        var waiter = new TaskCompletionSource<PingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var now = _time.GetTimestamp();
        var plan = new List<(Endpoint, DiscoTxId)>();
        Key disco;
        PeerRelayLeg? leg;
        lock (peer.Sync)
        {
            if (peer.DiscoOff)
            {
                return null;
            }

            disco = peer.DiscoKey;
            leg = peer.Leg;
            peer.PlanPingsLocked(peer.Paths.Keys, now, plan);
        }

        var relayTx = DiscoTxId.New();
        var legTx = DiscoTxId.New();
        try
        {
            foreach (var (e, tx) in plan)
            {
                SendPing(peer, disco, e, now, waiter, tx);
            }

            SendPing(peer, disco, null, now, waiter, relayTx);
            if (leg is not null)
            {
                SendPingViaLeg(peer, disco, leg, now, waiter, legTx);
            }
            using var registration = cancellationToken.Register(() => waiter.TrySetCanceled(cancellationToken));
            return await waiter.Task.ConfigureAwait(false);
        }
        finally
        {
            foreach (var (_, tx) in plan)
            {
                _pending.TryRemove(tx, out _);
            }

            _pending.TryRemove(relayTx, out _);
            _pending.TryRemove(legTx, out _);
        }
    }
}
