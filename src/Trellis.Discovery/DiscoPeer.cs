using Trellis.Core.Keys;
using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>
/// A peer as the node learns it from the map: keys, the endpoints it reported, its home relay, and
/// whether it relays for its peers over UDP (<paramref name="PeerRelay"/>; see DiscoveryBind.PeerRelay), and
/// whether its NAT maps per destination (<paramref name="MappingVaries"/>; see DiscoveryBind.Guess).
/// </summary>
public sealed record DiscoPeer(Key NodeKey, Key DiscoKey, IReadOnlyList<Endpoint> Endpoints, int HomeRelay = 0, bool PeerRelay = false, bool MappingVaries = false);
