using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;
using Trellis.Net.Netlink;

namespace Trellis.Node.Engine;

/// <summary>
/// The OS side of using an exit node, as wg-quick does it: a routing table of its own holding the
/// two default routes into the TUN, and per family a rule "not fwmark M lookup T" that sends every
/// packet not marked as underlay (<see cref="UnderlayMark"/>) there. The node's own WireGuard, relay,
/// control, STUN and port-mapping sockets carry the mark and keep the host's routes, so nothing loops.
/// With LAN access a rule before it ("lookup main suppress_prefixlength 0") keeps every route of the
/// main table more specific than its default, i.e. the directly connected LAN. The main table itself
/// is never touched, so turning this off removes exactly what it added. Not thread-safe: the engine
/// calls it under its gate.
/// </summary>
internal sealed class ExitRouting(IOsNetworkConfig os, string interfaceName)
{
    private readonly string _markTable = NftMasquerade.TableName(interfaceName) + "_exit";

    /// <summary>The routing table: "tr" in ASCII, like the mark, clear of tables others commonly use (52, 51820).</summary>
    public const uint Table = 7472;

    /// <summary>The rules' priorities: before the main table (32766), after the local one (0), beside Tailscale's 52xx.</summary>
    public const uint LanPriority = 5300;

    public const uint TunnelPriority = 5310;

    private static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    private IReadOnlyList<RoutingRule> _rules = [];
    private bool _routes;
    private IReadOnlyList<IPAddress> _sources = [];
    private bool _markRestore;
    private bool _changedSrcValidMark;

    /// <summary>The rules and routes <paramref name="plan"/> needs (none when it is null).</summary>
    public static IReadOnlyList<RoutingRule> Rules(ExitNodePlan? plan, uint mark)
    {
        if (plan is null)
        {
            return [];
        }

        var rules = new List<RoutingRule>();
        foreach (var family in Families)
        {
            if (plan.AllowLanAccess)
            {
                rules.Add(new RoutingRule(family, LanPriority, RouteTable.Main, SuppressPrefixLength: 0));
            }

            rules.Add(new RoutingRule(family, TunnelPriority, Table, NotFwmark: mark));
        }

        return rules;
    }

    /// <summary>Makes the table and rules match <paramref name="plan"/> (null: no exit node).</summary>
    public void Apply(ExitNodePlan? plan, List<Exception> failures)
    {
        var wanted = Rules(plan, UnderlayMark.Current == 0 ? UnderlayMark.Default : UnderlayMark.Current);


        // Routes first and rules last when turning on, the reverse when turning off, so no moment
        // sends traffic to an empty table (which would fall through to the main table's default).
        var mark = UnderlayMark.Current == 0 ? UnderlayMark.Default : UnderlayMark.Current;
        if (wanted.Count > 0)
        {
            ApplyMarkRestore(true, mark, failures);
        }

        var sources = plan?.Sources ?? [];
        if (wanted.Count > 0 && (!_routes || !_sources.SequenceEqual(sources)))
        {
            _routes = OsChange.Try(failures, () =>
            {
                os.AddTableRoute(interfaceName, Trellis.Core.Control.ExitRoutes.IPv4, Table, sources.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork));
                os.AddTableRoute(interfaceName, Trellis.Core.Control.ExitRoutes.IPv6, Table, sources.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6));
            });
            _sources = _routes ? sources : [];
        }

        foreach (var rule in _rules.Where(r => !wanted.Contains(r)).ToList())
        {
            if (OsChange.Try(failures, () => os.RemoveRule(rule)))
            {
                _rules = [.. _rules.Where(r => r != rule)];
            }
        }

        if (_routes || wanted.Count == 0)
        {
            foreach (var rule in wanted.Where(r => !_rules.Contains(r)).ToList())
            {
                if (OsChange.Try(failures, () => os.AddRule(rule)))
                {
                    _rules = [.. _rules, rule];
                }
            }
        }

        if (wanted.Count == 0 && _routes && _rules.Count == 0)
        {
            _routes = !OsChange.Try(failures, () =>
            {
                os.RemoveTableRoute(interfaceName, Trellis.Core.Control.ExitRoutes.IPv4, Table);
                os.RemoveTableRoute(interfaceName, Trellis.Core.Control.ExitRoutes.IPv6, Table);
            });
        }

        if (wanted.Count == 0 && _rules.Count == 0)
        {
            ApplyMarkRestore(false, mark, failures);
        }
    }

    /// <summary>
    /// Strict reverse-path filtering would drop the underlay's replies (their source routes into the
    /// tunnel for unmarked packets): they get their connection's mark back, and rp_filter looks at it.
    /// src_valid_mark is put back only if this class turned it on.
    /// </summary>
    private void ApplyMarkRestore(bool wanted, uint mark, List<Exception> failures)
    {
        if (wanted && !_markRestore)
        {
            _markRestore = OsChange.Try(failures, () => os.SetMarkRestore(_markTable, mark));
            var enabled = true;
            if (OsChange.Try(failures, () => enabled = os.IsSrcValidMarkEnabled()) && !enabled)
            {
                _changedSrcValidMark = OsChange.Try(failures, () => os.SetSrcValidMark(true));
            }
        }
        else if (!wanted && _markRestore)
        {
            _markRestore = !OsChange.Try(failures, () => os.RemoveMarkRestore(_markTable));
            if (_changedSrcValidMark)
            {
                _changedSrcValidMark = !OsChange.Try(failures, () => os.SetSrcValidMark(false));
            }
        }
    }

    /// <summary>Removes the rules and the table's routes (on shutdown).</summary>
    public void Withdraw(List<Exception> failures) => Apply(null, failures);
}
