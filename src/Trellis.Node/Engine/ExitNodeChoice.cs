using System.Net;
using Trellis.Core.Control;

namespace Trellis.Node.Engine;

/// <summary>
/// Finds the exit node a user named (`up --exit-node NAME|IP`) among a map's peers: by its name, its
/// full DNS name, or one of its overlay addresses. Shared by the daemon, which refuses a bad choice
/// before saving it, and the planner, which resolves it again on every map.
/// </summary>
public static class ExitNodeChoice
{
    /// <summary>The peer <paramref name="given"/> names, or null with the reason in <paramref name="error"/>.</summary>
    public static PeerInfo? Resolve(NetMap map, string given, out string? error)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(given);
        var text = given.Trim().TrimEnd('.');
        PeerInfo? found = null;
        if (IPAddress.TryParse(text, out var address))
        {
            found = map.Peers.Values.FirstOrDefault(p => p.Addresses.Any(a => IPNetwork.TryParse(a, out var n) && n.BaseAddress.Equals(address)));
        }
        else
        {
            var suffix = map.Dns is { } dns ? "." + dns.BaseDomain : null;
            found = map.Peers.Values.OrderBy(p => p.Id).FirstOrDefault(p =>
                string.Equals(p.Name, text, StringComparison.OrdinalIgnoreCase)
                || (suffix is not null && string.Equals(p.Name + suffix, text, StringComparison.OrdinalIgnoreCase)));
        }

        if (found is null)
        {
            var names = map.Peers.Values.Where(p => ExitRoutes.Offers(p.AllowedIps)).Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
            error = $"no peer named '{given}' in this node's map; "
                + (names.Count == 0 ? "no peer offers itself as an exit node (trellis up --advertise-exit-node, then trellis routes approve NODE 0.0.0.0/0 ::/0)" : $"exit nodes: {string.Join(", ", names)}");
            return null;
        }

        if (!ExitRoutes.Offers(found.AllowedIps))
        {
            error = $"{found.Name} is not an exit node: it must run `trellis up --advertise-exit-node` and an admin approve it (trellis routes approve {found.Name} 0.0.0.0/0 ::/0)";
            return null;
        }

        error = null;
        return found;
    }
}
