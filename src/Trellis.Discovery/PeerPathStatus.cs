using Trellis.Core.Keys;
using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>How packets to a peer travel now, for status. <see cref="Path"/>: "direct", "relay" or "none".</summary>
public sealed record PeerPathStatus(
    Key NodeKey,
    Endpoint Synthetic,
    string Path,
    Endpoint? DirectEndpoint,
    int RelayRegion,
    string? RelayCode,
    TimeSpan? Latency,
    DateTimeOffset? LastPong);

/// <summary>What <see cref="DiscoveryBind.PingAsync"/> found: the first path to answer and its round trip.</summary>
public sealed record PingResult(string Path, Endpoint? Endpoint, int RelayRegion, TimeSpan RoundTrip);
