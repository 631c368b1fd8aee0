using Trellis.Core.Keys;
using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>
/// How packets to a peer travel now, for status. <see cref="Path"/>: a <see cref="Core.Control.PathKind"/>;
/// through a peer relay, <see cref="DirectEndpoint"/> is the relay's endpoint and <see cref="PeerRelay"/> its node key.
/// </summary>
public sealed record PeerPathStatus(
    Key NodeKey,
    Endpoint Synthetic,
    string Path,
    Endpoint? DirectEndpoint,
    int RelayRegion,
    string? RelayCode,
    TimeSpan? Latency,
    DateTimeOffset? LastPong,
    Key? PeerRelay = null);

/// <summary>What <see cref="DiscoveryBind.PingAsync"/> found: the first path to answer and its round trip (through a peer relay: which).</summary>
public sealed record PingResult(string Path, Endpoint? Endpoint, int RelayRegion, TimeSpan RoundTrip, Key? PeerRelay = null);
