using System.Net;
using System.Net.Sockets;
using Trellis.Net.Netlink;

namespace Trellis.Node.Engine;

/// <summary>
/// A gateway forwards its plain peers' traffic to other nodes' subnet routes: a routing table of its
/// own holds those routes into the TUN, and per family a rule "iif TUN lookup T" sends only packets
/// that came in through the tunnel there. The host's own traffic keeps its routes, so routing subnets
/// for itself stays its choice (--accept-routes). Not thread-safe: the engine calls it under its gate.
/// </summary>
internal sealed class GatewayRouting(IOsNetworkConfig os, string interfaceName)
{
    /// <summary>The routing table: next to the exit node's (<see cref="ExitRouting.Table"/>).</summary>
    public const uint Table = 7473;

    /// <summary>Before an exit node's rule, so forwarded traffic for a subnet stays in the mesh; after its LAN rule.</summary>
    public const uint Priority = 5305;

    private static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    private readonly HashSet<IPNetwork> _routes = [];
    private readonly List<RoutingRule> _rules = [];

    /// <summary>The rules while there are routes to forward to (none otherwise).</summary>
    public static IReadOnlyList<RoutingRule> Rules(IReadOnlyList<IPNetwork> routes, string interfaceName) =>
        routes.Count == 0 ? [] : [.. Families.Select(f => new RoutingRule(f, Priority, Table, IncomingInterface: interfaceName))];

    /// <summary>Makes the table and the rules match <paramref name="routes"/>: routes before rules, so no rule points at a table still empty.</summary>
    public void Apply(IReadOnlyList<IPNetwork> routes, List<Exception> failures)
    {
        foreach (var route in routes.Where(r => !_routes.Contains(r)).ToList())
        {
            if (OsChange.Try(failures, () => os.AddTableRoute(interfaceName, route, Table, null)))
            {
                _routes.Add(route);
            }
        }

        var wanted = Rules(routes, interfaceName);
        foreach (var rule in _rules.Where(r => !wanted.Contains(r)).ToList())
        {
            if (OsChange.Try(failures, () => os.RemoveRule(rule)))
            {
                _rules.Remove(rule);
            }
        }

        foreach (var rule in wanted.Where(r => !_rules.Contains(r)).ToList())
        {
            if (OsChange.Try(failures, () => os.AddRule(rule)))
            {
                _rules.Add(rule);
            }
        }

        foreach (var route in _routes.Where(r => !routes.Contains(r)).ToList())
        {
            if (OsChange.Try(failures, () => os.RemoveTableRoute(interfaceName, route, Table)))
            {
                _routes.Remove(route);
            }
        }
    }

    /// <summary>Removes the rules and the table's routes (on shutdown).</summary>
    public void Withdraw(List<Exception> failures) => Apply([], failures);
}
