namespace Trellis.Node.Engine;

/// <summary>What the data plane knows of each peer.</summary>
/// <param name="DroppedByPolicy">Packets from peers the access policy refused since the engine started (peers since removed included).</param>
/// <param name="HomeRelay">The home relay region's code (peers reach this node through it), if any.</param>
/// <param name="RelayRegions">The codes of the other relay regions connected to reach peers homed there.</param>
/// <param name="ExitNode">The exit node in use (set even while it is unusable), or null.</param>
public sealed record EngineStatus(IReadOnlyList<PeerStatus> Peers, long DroppedByPolicy = 0, string? HomeRelay = null, IReadOnlyList<string>? RelayRegions = null, ExitNodePlan? ExitNode = null);

/// <param name="Path">A <see cref="Core.Control.PathKind"/>.</param>
/// <param name="Endpoint">The ip:port of the direct path in use, or of the peer relay, if any.</param>
/// <param name="Relay">The relay region code in use, if the path is a relay.</param>
/// <param name="DroppedByPolicy">Packets from this peer the access policy refused.</param>
/// <param name="PeerRelayKey">The node key (base64) of the peer relaying for this peer, on a peer-relay path.</param>
public sealed record PeerStatus(
    long Id,
    string NodeKey,
    string Path,
    string? Endpoint,
    string? Relay,
    DateTimeOffset? LastHandshake,
    long RxBytes,
    long TxBytes,
    long DroppedByPolicy = 0,
    string? PeerRelayKey = null);
