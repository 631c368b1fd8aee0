using System.Net;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Node.Engine;

/// <summary>
/// Turns a map and the node's settings into an <see cref="EnginePlan"/>. Pure: no device, no OS, so
/// every routing rule is unit-tested here. Entries that cannot be used are left out and described in
/// <see cref="EnginePlan.Problems"/> rather than failing the whole map.
/// </summary>
internal static class EnginePlanner
{
    public static EnginePlan Plan(NetMap map, EngineSettings settings, Key ownKey)
    {
        var problems = new List<string>();
        var overlay = ParseOverlay(map.OverlayPrefixes, problems);
        var addresses = ParseAddresses(map.Self.Addresses, overlay, problems);
        if (map.Dns is not null && addresses.Count > 0)
        {
            // The resolver's own addresses: local to this host, so queries to them never enter the tunnel.
            addresses.AddRange(MeshResolverAddress.All.Select(a => new InterfaceAddress(a, a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)));
        }

        var ownAddressNetworks = addresses.Select(a => a.Network).ToHashSet();
        var advertised = ParseNetworks(settings.AdvertisedRoutes, "advertised route", problems);
        var selfAllowed = ParseNetworks(map.Self.AllowedIps, "own allowed IP", problems);

        // This node's own prefixes: what it advertises and what the server routes to it beyond its
        // addresses. A route into the mesh for any of them would send its own LAN's traffic in a loop.
        // Default routes are left out: an exit node's own 0.0.0.0/0 overlaps everything and loops nothing.
        var ownPrefixes = advertised.Concat(selfAllowed.Where(n => !ownAddressNetworks.Contains(n)))
            .Where(n => !ExitRoutes.IsExitRoute(n)).Distinct().ToList();

        string? exitProblem = null;
        var exit = string.IsNullOrWhiteSpace(settings.ExitNode) ? null : ExitNodeChoice.Resolve(map, settings.ExitNode, out exitProblem);
        if (exitProblem is not null)
        {
            problems.Add($"exit node: {exitProblem}; internet traffic is dropped until it is usable (trellis set --exit-node= sends it directly again)");
        }

        var routes = new OrderedSet(overlay);
        var claimed = new Dictionary<IPNetwork, long>();
        var keys = new HashSet<Key>();
        var preferIPv6 = EndpointChooser.HasIPv6(map.Self.Endpoints);
        var peers = new List<PlannedPeer>(map.Peers.Count);
        var allowedById = new Dictionary<long, List<IPNetwork>>();

        // A gateway forwards its plain peers' traffic to other nodes' subnet routes whether or not it
        // accepts routes for itself: WireGuard gets them here, the OS only for forwarded packets.
        var servesPlainPeers = map.Peers.Values.Any(p => p.Gateway == map.Self.Id);
        var gatewayRoutes = new OrderedSet([]);

        // Plain WireGuard peers last: those of another gateway join that gateway's allowed IPs.
        foreach (var info in map.Peers.Values.OrderBy(p => p.Gateway is null ? 0 : 1).ThenBy(p => p.Id))
        {
            if (info.Gateway is { } gateway && gateway != map.Self.Id)
            {
                PlanBehindGateway(info, gateway, overlay, allowedById, claimed, problems);
                continue;
            }

            if (!TryPeerKey(info, ownKey, keys, problems, out var key))
            {
                continue;
            }

            var peerAddresses = ParsePeerAddresses(info, overlay, problems);
            var allowed = new List<IPNetwork>(peerAddresses.Count);
            foreach (var address in peerAddresses)
            {
                Claim(address, info, claimed, allowed, problems);
            }

            if (exit?.Id == info.Id)
            {
                // The chosen exit node's default routes go to it as allowed IPs only; policy routing, not
                // the main table, sends traffic to the tunnel (see ExitRouting).
                Claim(ExitRoutes.IPv4, info, claimed, allowed, problems);
                Claim(ExitRoutes.IPv6, info, claimed, allowed, problems);
            }

            if (settings.AcceptRoutes || servesPlainPeers)
            {
                foreach (var route in ParseNetworks(info.AllowedIps, $"allowed IP of peer {Describe(info)}", problems))
                {
                    if (!peerAddresses.Contains(route) && !ExitRoutes.IsExitRoute(route) && Acceptable(route, info, ownPrefixes, overlay, problems) && Claim(route, info, claimed, allowed, problems))
                    {
                        if (settings.AcceptRoutes)
                        {
                            routes.Add(route);
                        }

                        if (servesPlainPeers)
                        {
                            gatewayRoutes.Add(route);
                        }
                    }
                }
            }

            allowedById[info.Id] = allowed;

            // A plain peer served here has no endpoint until its first handshake, which WireGuard roams to.
            peers.Add(info.Gateway is null
                ? new PlannedPeer(info.Id, key, allowed, EndpointChooser.Choose(info.Endpoints, preferIPv6))
                : new PlannedPeer(info.Id, key, allowed, null, Plain: true));
        }

        var router = PlanSubnetRouter(settings, advertised, selfAllowed, overlay);
        if (peers.Any(p => p.Plain))
        {
            // A gateway forwards between its plain peers and the mesh through its own TUN, both families.
            router = router is null
                ? new SubnetRouterPlan([], ForwardIPv4: true, ForwardIPv6: true, [])
                : router with { ForwardIPv4 = true, ForwardIPv6 = true };
        }

        return new EnginePlan(addresses, routes.Items, peers, router, problems)
        {
            GatewayRoutes = gatewayRoutes.Items,
            ExitNode = string.IsNullOrWhiteSpace(settings.ExitNode) ? null : new ExitNodePlan(settings.ExitNode.Trim(), settings.ExitNodeAllowLanAccess, exit?.Id, exit?.Name, exitProblem)
            {
                Sources = [.. ParseAddresses(map.Self.Addresses, overlay, []).Select(a => a.Address)],
            },
        };
    }

    /// <summary>
    /// The peer as <see cref="Plan"/> would give it, when its plan depends on no other peer and asks
    /// nothing of the OS: no gateway, a usable key other than this node's, only overlay host addresses,
    /// and no subnet route that would be accepted. Null otherwise (the whole map is planned). Whether
    /// another peer holds the same key or an address is for the caller, who knows the peers applied.
    /// </summary>
    public static PlannedPeer? PlanAlone(PeerInfo info, EngineSettings settings, Key ownKey, List<IPNetwork> overlay, bool preferIPv6)
    {
        var problems = new List<string>();
        if (info.Gateway is not null || !TryPeerKey(info, ownKey, [], problems, out var key))
        {
            return null;
        }

        var addresses = ParsePeerAddresses(info, overlay, problems);
        if (problems.Count > 0)
        {
            return null;
        }

        if (settings.AcceptRoutes)
        {
            foreach (var route in ParseNetworks(info.AllowedIps, "allowed IP", problems))
            {
                if (!addresses.Contains(route) && !ExitRoutes.IsExitRoute(route))
                {
                    return null;
                }
            }

            if (problems.Count > 0)
            {
                return null;
            }
        }

        return new PlannedPeer(info.Id, key, addresses, EndpointChooser.Choose(info.Endpoints, preferIPv6));
    }

    /// <summary>The overlay prefixes as <see cref="Plan"/> reads them; null when any is unusable.</summary>
    public static List<IPNetwork>? Overlay(NetMap map)
    {
        var problems = new List<string>();
        var overlay = ParseOverlay(map.OverlayPrefixes, problems);
        return problems.Count == 0 ? overlay : null;
    }

    /// <summary>
    /// A plain WireGuard peer of another gateway: no WireGuard peer of its own (it speaks only to its
    /// gateway), its addresses routed to the gateway as if they were the gateway's.
    /// </summary>
    private static void PlanBehindGateway(PeerInfo info, long gateway, List<IPNetwork> overlay, Dictionary<long, List<IPNetwork>> allowedById, Dictionary<IPNetwork, long> claimed, List<string> problems)
    {
        if (!allowedById.TryGetValue(gateway, out var allowed))
        {
            problems.Add($"plain WireGuard peer {Describe(info)}: its gateway {gateway} is not among this node's peers; unreachable");
            return;
        }

        foreach (var address in ParsePeerAddresses(info, overlay, problems))
        {
            if (claimed.TryGetValue(address, out var owner))
            {
                problems.Add($"{address} of plain WireGuard peer {Describe(info)} goes to peer {owner}, which also has it");
                continue;
            }

            claimed.Add(address, gateway);
            allowed.Add(address);
        }
    }

    /// <summary>Forwarding for the advertised prefixes the server approved (they appear in this node's allowed IPs).</summary>
    private static SubnetRouterPlan? PlanSubnetRouter(EngineSettings settings, List<IPNetwork> advertised, List<IPNetwork> selfAllowed, List<IPNetwork> overlay)
    {
        var approved = advertised.Where(selfAllowed.Contains).ToList();
        if (approved.Count == 0)
        {
            return null;
        }

        var masquerade = new List<MasqueradeRule>();
        if (settings.Masquerade)
        {
            foreach (var source in overlay)
            {
                foreach (var destination in approved)
                {
                    if (Prefixes.IsIPv6(source) == Prefixes.IsIPv6(destination))
                    {
                        masquerade.Add(new MasqueradeRule(source, destination));
                    }
                }
            }
        }

        return new SubnetRouterPlan(approved, approved.Any(p => !Prefixes.IsIPv6(p)), approved.Any(Prefixes.IsIPv6), masquerade);
    }

    private static bool TryPeerKey(PeerInfo info, Key ownKey, HashSet<Key> seen, List<string> problems, out Key key)
    {
        if (!Key.TryParseBase64(info.NodeKey, out key) || key.IsZero)
        {
            problems.Add($"peer {Describe(info)}: node key \"{info.NodeKey}\" is not a base64 X25519 public key; skipped");
            return false;
        }

        if (key == ownKey)
        {
            problems.Add($"peer {Describe(info)} has this node's own key; skipped");
            return false;
        }

        if (!seen.Add(key))
        {
            problems.Add($"peer {Describe(info)} has the node key of another peer; skipped");
            return false;
        }

        return true;
    }

    /// <summary>Whether a peer's subnet route may be routed into the mesh.</summary>
    private static bool Acceptable(IPNetwork route, PeerInfo info, List<IPNetwork> ownPrefixes, List<IPNetwork> overlay, List<string> problems)
    {
        if (OverlayRules.OverlappedOverlay(route, overlay) is { } inside)
        {
            // The overlay's own addresses go to the peers that hold them, never to a subnet router.
            problems.Add($"route {route} of peer {Describe(info)} overlaps the overlay {inside}; skipped");
            return false;
        }

        foreach (var own in ownPrefixes)
        {
            if (Prefixes.Overlap(route, own))
            {
                problems.Add($"route {route} of peer {Describe(info)} overlaps this node's own {own}; skipped so that traffic does not loop");
                return false;
            }
        }

        return true;
    }

    /// <summary>Gives the prefix to the peer unless an earlier peer (lower id) has it: WireGuard routes a prefix to one peer.</summary>
    private static bool Claim(IPNetwork prefix, PeerInfo info, Dictionary<IPNetwork, long> claimed, List<IPNetwork> allowed, List<string> problems)
    {
        if (claimed.TryGetValue(prefix, out var owner))
        {
            if (owner != info.Id)
            {
                problems.Add($"{prefix} of peer {Describe(info)} goes to peer {owner}, which also has it");
            }

            return false;
        }

        claimed.Add(prefix, info.Id);
        allowed.Add(prefix);
        return true;
    }

    /// <summary>The overlay prefixes, each in private address space: anything else would route the host's own traffic into the mesh.</summary>
    private static List<IPNetwork> ParseOverlay(IReadOnlyList<string> texts, List<string> problems)
    {
        var overlay = ParseNetworks(texts, "overlay prefix", problems);
        foreach (var prefix in overlay.Where(p => !OverlayRules.IsPrivateSpace(p)).ToList())
        {
            problems.Add($"overlay prefix {prefix} is not in private address space ({OverlaySpace.Describe}); skipped");
            overlay.Remove(prefix);
        }

        return overlay;
    }

    /// <summary>A peer's addresses, each a single host inside the overlay: the map cannot give a peer any other prefix as an address.</summary>
    private static List<IPNetwork> ParsePeerAddresses(PeerInfo info, List<IPNetwork> overlay, List<string> problems)
    {
        var addresses = ParseNetworks(info.Addresses, $"address of peer {Describe(info)}", problems);
        foreach (var address in addresses.Where(a => !OverlayRules.IsOverlayHost(a, overlay)).ToList())
        {
            problems.Add($"address {address} of peer {Describe(info)} is not a single host inside the overlay; skipped");
            addresses.Remove(address);
        }

        return addresses;
    }

    private static List<InterfaceAddress> ParseAddresses(IReadOnlyList<string> texts, List<IPNetwork> overlay, List<string> problems)
    {
        var result = new List<InterfaceAddress>(texts.Count);
        foreach (var text in texts)
        {
            if (!InterfaceAddress.TryParse(text, out var address))
            {
                problems.Add($"own address \"{text}\" is not an address/prefix; skipped");
            }
            else if (!overlay.Any(o => o.Contains(address.Value.Address)))
            {
                problems.Add($"own address {address} is not inside the overlay; skipped");
            }
            else if (!result.Contains(address.Value))
            {
                result.Add(address.Value);
            }
        }

        return result;
    }

    private static List<IPNetwork> ParseNetworks(IReadOnlyList<string> texts, string what, List<string> problems)
    {
        var result = new List<IPNetwork>(texts.Count);
        foreach (var text in texts)
        {
            if (!Prefixes.TryParseNetwork(text, out var network))
            {
                problems.Add($"{what} \"{text}\" is not a prefix; skipped");
            }
            else if (!result.Contains(network))
            {
                result.Add(network);
            }
        }

        return result;
    }

    private static string Describe(PeerInfo info) => $"{info.Id} ({info.Name})";

    /// <summary>Insertion order with duplicates dropped, so routes come out in the map's order.</summary>
    private sealed class OrderedSet(IEnumerable<IPNetwork> initial)
    {
        private readonly List<IPNetwork> _items = [.. initial.Distinct()];
        private readonly HashSet<IPNetwork> _seen = [.. initial];

        public IReadOnlyList<IPNetwork> Items => _items;

        public void Add(IPNetwork item)
        {
            if (_seen.Add(item))
            {
                _items.Add(item);
            }
        }
    }
}
