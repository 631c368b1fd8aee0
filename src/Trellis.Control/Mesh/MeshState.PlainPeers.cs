using System.Net;
using Trellis.Control.Policy;
using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

// Plain WireGuard peers under a policy. Such a peer has no filter and no map of its own: its gateway
// sees whom it sees and enforces its inbound rules, and every node that sees it must see its gateway
// (its addresses are routed there). A membership change while plain peers exist recomputes every
// connected view: gateways are few, and this keeps the incremental rules of MeshState.Views whole.
public sealed partial class MeshState
{
    // guarded by _views (write side)
    private readonly HashSet<long> _plainPeers = [];

    /// <summary>Notes whether the entry is a plain peer; true when the views must all be recomputed.</summary>
    private bool TrackPlainPeerLocked(PeerInfo? old, PeerInfo? info, long id)
    {
        var was = _plainPeers.Contains(id);
        if (info?.Gateway is not null)
        {
            _plainPeers.Add(id);
        }
        else
        {
            _plainPeers.Remove(id);
        }

        return !_policy.AllowsAll && (was || _plainPeers.Count > 0 || old?.Gateway is not null);
    }

    /// <summary>Every connected view again, each sent only its difference; under the write lock.</summary>
    private void RecomputeAllViewsLocked()
    {
        _policyNodes = new PolicyNodeSet(_members.Values);
        MeshSnapshot? everyone = null;
        foreach (var (id, session) in _sessions)
        {
            if (_members.TryGetValue(id, out var member))
            {
                var (visible, filter) = ComputeViewLocked(member);
                ApplyViewLocked(session, visible, filter, ref everyone);
            }
        }
    }

    /// <summary>
    /// Widens a node's view for plain peers: a gateway also sees whom its plain peers see and takes
    /// on their inbound rules; any node that sees a plain peer also sees that peer's gateway.
    /// </summary>
    private PacketFilter WithPlainPeersLocked(long self, ref PeerIdSet visible, PacketFilter filter)
    {
        if (_plainPeers.Count == 0 || _policyNodes is not { } nodes)
        {
            return filter;
        }

        HashSet<long>? wider = null; // the class's set is shared: widened on a copy of this node's own
        List<FilterRule>? rules = null;
        foreach (var id in _plainPeers)
        {
            if (_nodes.TryGetValue(id, out var peer) && peer.Gateway == self && _members.TryGetValue(id, out var member))
            {
                wider ??= [.. visible];
                wider.UnionWith(_policy.VisiblePeers(member, nodes));
                wider.Add(id);
                rules ??= [.. filter.Rules];
                rules.AddRange(_policy.InboundFilter(member, nodes).Rules);
                AddOutboundRulesLocked(peer, member, nodes, rules);
            }
        }

        foreach (var id in _plainPeers)
        {
            if (id != self && (wider?.Contains(id) ?? visible.Contains(id)) && _nodes.TryGetValue(id, out var peer) && peer.Gateway is { } gateway && gateway != self && _nodes.ContainsKey(gateway))
            {
                wider ??= [.. visible];
                wider.Add(gateway);
            }
        }

        if (wider is not null)
        {
            visible = PeerIdSet.From(wider);
        }

        return rules is null ? filter : filter with { Rules = rules };
    }

    /// <summary>A node's filter with its plain peers' rules, its view left as it is.</summary>
    private PacketFilter WithPlainPeersLocked(long self, PacketFilter filter)
    {
        var none = PeerIdSet.Empty;
        return WithPlainPeersLocked(self, ref none, filter);
    }

    /// <summary>
    /// The approved subnet routes a plain peer may reach, for its configuration: those of every
    /// Trellis node it may see (all of them while the policy allows all), exit routes left out (the
    /// device keeps its own internet). Sorted, so the same mesh prints the same text.
    /// </summary>
    public IReadOnlyList<string> SubnetRoutesFor(long plainPeerId)
    {
        _views.EnterReadLock();
        try
        {
            IEnumerable<long> visible = !_policy.AllowsAll && _policyNodes is { } nodes && _members.TryGetValue(plainPeerId, out var member)
                ? _policy.VisiblePeers(member, nodes)
                : _nodes.Keys;
            var routes = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var id in visible)
            {
                if (id != plainPeerId && _nodes.TryGetValue(id, out var node) && node.Gateway is null)
                {
                    routes.UnionWith(node.AllowedIps.Where(p => !node.Addresses.Contains(p) && !ExitRoutes.IsExitRoute(p)));
                }
            }

            return [.. routes];
        }
        finally
        {
            _views.ExitReadLock();
        }
    }

    /// <summary>
    /// What a plain peer may send through its gateway: each rule of a node it may reach that admits
    /// the plain peer's addresses, narrowed to them. The gateway's filter sees the packet before it is
    /// forwarded; the destination checks it again.
    /// </summary>
    private void AddOutboundRulesLocked(PeerInfo peer, PolicyNode member, PolicyNodeSet nodes, List<FilterRule> rules)
    {
        var addresses = peer.Addresses.Select(a => IPNetwork.TryParse(a, out var n) ? n : (IPNetwork?)null).OfType<IPNetwork>().ToList();
        foreach (var id in _policy.VisiblePeers(member, nodes))
        {
            if (id == member.Id || !_members.TryGetValue(id, out var destination))
            {
                continue;
            }

            foreach (var rule in _policy.InboundFilter(destination, nodes).Rules)
            {
                var admitted = addresses.Where(a => rule.Sources.Any(s => IPNetwork.TryParse(s, out var source) && source.Contains(a.BaseAddress))).ToList();
                if (admitted.Count > 0)
                {
                    rules.Add(rule with { Sources = [.. admitted.Select(a => a.ToString())] });
                }
            }
        }
    }
}
