using Trellis.Core.Control;

namespace Trellis.Node.Engine;

/// <summary>What `trellis status` shows per peer.</summary>
public sealed partial class WireGuardEngine
{
    /// <summary>
    /// A handshake older than this means no usable session: WireGuard rejects a session after 180 s
    /// (Reject-After-Time), and a live one is renewed every 120 s while packets or keepalives flow.
    /// </summary>
    public static readonly TimeSpan DirectPathWindow = TimeSpan.FromSeconds(180);

    public EngineStatus Status()
    {
        var peers = Volatile.Read(ref _peerSnapshot);
        var now = _time.GetUtcNow();
        var result = new PeerStatus[peers.Length];
        for (var i = 0; i < peers.Length; i++)
        {
            var applied = peers[i];
            var peer = applied.Peer;
            var endpoint = peer.Endpoint;
            var handshake = peer.LastHandshake;
            var path = PathOf(handshake, endpoint is not null, now);
            string? relay = null;
            string? peerRelay = null;
            if (_discovery?.GetStatus(applied.Key) is { } discovered)
            {
                // The tunnel's freshness from WireGuard, the way it travels from discovery.
                path = path == PathKind.None ? PathKind.None : discovered.Path;
                endpoint = discovered.DirectEndpoint;
                relay = discovered.Path == PathKind.Relay ? discovered.RelayCode : null;
                peerRelay = discovered.PeerRelay?.ToBase64();
            }

            result[i] = new PeerStatus(
                applied.Id,
                applied.Key.ToBase64(),
                path,
                endpoint?.ToString(),
                relay,
                handshake,
                peer.RxBytes,
                peer.TxBytes,
                peer.DroppedByFilter,
                peerRelay);
        }

        return new EngineStatus(
            result,
            Interlocked.Read(ref _device.Counters.DroppedByFilter),
            _relay is { RegionId: not 0 } regional ? RegionCode(regional.RegionId) : null,
            _relay is null ? null : [.. _relay.OnDemandRegions.Select(RegionCode)],
            Volatile.Read(ref _exitNode));
    }

    /// <summary>A region's code from the current map, else its id.</summary>
    private string RegionCode(int regionId) =>
        _relayMap.Regions.FirstOrDefault(r => r.Id == regionId)?.Code ?? regionId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>"direct" while a recent handshake and an endpoint say the UDP path works, else "none" (relays come later).</summary>
    internal static string PathOf(DateTimeOffset? lastHandshake, bool hasEndpoint, DateTimeOffset now) =>
        hasEndpoint && lastHandshake is { } at && now - at <= DirectPathWindow ? "direct" : "none";
}
