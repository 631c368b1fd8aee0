using System.Net;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Node.Engine;

/// <summary>
/// Which peers may use this node as a peer relay: those the access policy lets reach it, read from
/// the inbound filter the map carries (a rule whose sources hold one of the peer's addresses, to
/// any destination of this node). A pair is served only when both are in it.
/// </summary>
internal static class PeerRelayClients
{
    /// <summary>The node keys of the peers allowed; null when the filter allows everyone (no policy).</summary>
    public static HashSet<Key>? From(NetMap map)
    {
        var filter = map.PacketFilter;
        if (filter.AllowsAll)
        {
            return null;
        }

        var sources = new List<IPNetwork>();
        foreach (var rule in filter.Rules)
        {
            foreach (var text in rule.Sources)
            {
                if (IPNetwork.TryParse(text, out var prefix))
                {
                    sources.Add(prefix);
                }
            }
        }

        var allowed = new HashSet<Key>();
        foreach (var peer in map.Peers.Values)
        {
            if (Key.TryParseBase64(peer.NodeKey, out var key) && peer.Addresses.Any(a => Reaches(a, sources)))
            {
                allowed.Add(key);
            }
        }

        return allowed;
    }

    private static bool Reaches(string address, List<IPNetwork> sources)
    {
        var host = address.Split('/')[0];
        return IPAddress.TryParse(host, out var ip) && sources.Exists(s => s.Contains(ip));
    }
}
