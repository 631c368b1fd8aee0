using System.Collections.Concurrent;
using Trellis.Control.Policy;
using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

// Peer relays under the policy: a node offering to relay (PeerInfo.PeerRelay) is offered only to the
// nodes the policy lets reach it, as Tailscale offers a peer relay only to the sources of a grant to
// it. A node that sees the relay but may not reach it (the relay may reach that node) gets the relay's
// entry with the offer cleared: a copy made once per entry instance and shared by every such receiver,
// so the shared entry, and the JSON kept beside it, never changes per receiver. Which receivers got
// the copy is kept in their views, so a change of policy or membership re-sends the entry whose offer
// a node gains or loses.
public sealed partial class MeshState
{
    // guarded by _views (write side): the nodes offering to relay, and per relay the nodes that may
    // reach it under _relayClientsFor (dropped when the policy or the node set is replaced).
    private readonly HashSet<long> _offering = [];
    private readonly Dictionary<long, IReadOnlySet<long>> _relayClients = [];
    private (IAccessPolicy? Policy, PolicyNodeSet? Nodes) _relayClientsFor;

    // node id -> its entry and that entry without the offer; written under either side of _views.
    private readonly ConcurrentDictionary<long, (PeerInfo Entry, PeerInfo Withheld)> _withheld = new();

    /// <summary>Whether <paramref name="receiver"/> may use <paramref name="relay"/> as a peer relay; under the write lock.</summary>
    private bool MayUsePeerRelayLocked(long receiver, long relay)
    {
        if (_policy.AllowsAll)
        {
            return true;
        }

        var nodes = _policyNodes ??= new PolicyNodeSet(_members.Values);
        if (!ReferenceEquals(_relayClientsFor.Policy, _policy) || !ReferenceEquals(_relayClientsFor.Nodes, nodes))
        {
            _relayClients.Clear();
            _relayClientsFor = (_policy, nodes);
        }

        if (!_relayClients.TryGetValue(relay, out var clients))
        {
            clients = _members.TryGetValue(relay, out var member) ? _policy.NodesReaching(member, nodes) : new HashSet<long>();
            _relayClients[relay] = clients;
        }

        return clients.Contains(receiver);
    }

    /// <summary>
    /// The entry of <paramref name="peer"/> as <paramref name="view"/>'s node may be sent it, recording
    /// in the view whether its offer was withheld; under the write lock.
    /// </summary>
    private PeerInfo EntryForLocked(NodeView view, long receiver, PeerInfo peer)
    {
        if (!peer.PeerRelay || MayUsePeerRelayLocked(receiver, peer.Id))
        {
            view.Withheld?.Remove(peer.Id);
            return peer;
        }

        (view.Withheld ??= []).Add(peer.Id);
        return WithoutOffer(peer);
    }

    /// <summary>The entry as last decided for this view (a reachability patch changes no one's right to the relay); under either side of the lock.</summary>
    private PeerInfo EntryAsSent(NodeView view, PeerInfo peer) =>
        peer.PeerRelay && view.Withheld is { } withheld && withheld.Contains(peer.Id) ? WithoutOffer(peer) : peer;

    private PeerInfo WithoutOffer(PeerInfo peer)
    {
        if (_withheld.TryGetValue(peer.Id, out var made) && ReferenceEquals(made.Entry, peer))
        {
            return made.Withheld;
        }

        var copy = peer with { PeerRelay = false };
        _withheld[peer.Id] = (peer, copy); // a racing writer's copy is as good: both are this entry without the offer
        return copy;
    }

    /// <summary>Keeps the set of offering nodes current; under the write lock.</summary>
    private void TrackOfferLocked(long id, PeerInfo? now)
    {
        if (now is { PeerRelay: true })
        {
            _offering.Add(id);
        }
        else
        {
            _offering.Remove(id);
            _withheld.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// The entries of offering relays the node keeps seeing whose offer it gains or loses under its
    /// new view (a policy edit, the node's own change), to be sent again; under the write lock.
    /// </summary>
    private void AddOfferChangesLocked(NodeView view, long self, PeerIdSet? previous, PeerIdSet? next, List<PeerInfo> resend)
    {
        foreach (var relay in _offering)
        {
            if (relay == self || !_nodes.TryGetValue(relay, out var entry)
                || !(previous is null || previous.Contains(relay)) || !(next is null || next.Contains(relay)))
            {
                continue; // gained and lost peers are handled as such
            }

            var withheld = view.Withheld is { } set && set.Contains(relay);
            if (withheld == MayUsePeerRelayLocked(self, relay))
            {
                resend.Add(EntryForLocked(view, self, entry));
            }
        }
    }
}
