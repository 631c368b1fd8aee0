using System.Collections.Immutable;
using Trellis.Core.Control;

namespace Trellis.Node.Daemon;

/// <summary>
/// The map an engine gets on `down`: the node keeps its identity but has no addresses, peers, relays
/// or overlay prefixes, so every tunnel, route and address goes away (like `tailscale down`).
/// </summary>
internal static class DownMap
{
    public static NetMap From(NetMap map) => new()
    {
        Self = map.Self with { Addresses = [], AllowedIps = [], Endpoints = [] },
        Peers = ImmutableDictionary<long, PeerInfo>.Empty,
    };
}
