namespace Trellis.Node.Engine;

/// <summary>What the data plane knows of each peer.</summary>
public sealed record EngineStatus(IReadOnlyList<PeerStatus> Peers);

/// <param name="Path">"direct", "relay" or "none".</param>
/// <param name="Endpoint">The ip:port of the direct path in use, if any.</param>
/// <param name="Relay">The relay region code in use, if the path is a relay.</param>
public sealed record PeerStatus(
    long Id,
    string NodeKey,
    string Path,
    string? Endpoint,
    string? Relay,
    DateTimeOffset? LastHandshake,
    long RxBytes,
    long TxBytes);
