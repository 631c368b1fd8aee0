using Trellis.Core.Keys;
using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>
/// As a peer relay: a request that came from an endpoint of the asker not proven yet, kept until a
/// pong proves that endpoint. <paramref name="Target"/> is whom the asker wants to reach,
/// <paramref name="Source"/> where it asked from, <paramref name="At"/> when, and
/// <paramref name="ChallengedAt"/> when the relay last pinged a held source of this asker to prove it.
/// </summary>
internal sealed record HeldPeerRelayRequest(Key Target, Endpoint Source, long At, long ChallengedAt);
