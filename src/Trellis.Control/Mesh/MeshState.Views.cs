using Trellis.Control.Policy;
using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

// The access policy in the mesh: who sees whom, and each node's inbound filter. A membership
// change of node X (joins, leaves, retagged, its routes change) touches only the sessions that saw
// X or now see it: X's visibility is symmetric (a node sees the peers it may reach and those that
// may reach it), so one VisiblePeers(X) says which views gain or lose X, and only their filters are
// recomputed. A policy change recomputes every connected view and sends each only its difference.
public sealed partial class MeshState
{
    // Write side: membership and policy changes, connects. Read side: patches, which only read views.
    private readonly ReaderWriterLockSlim _views = new();

    // guarded by _views (write side)
    private IAccessPolicy _policy = AllowAllPolicy.Instance;
    private readonly Dictionary<long, PolicyNode> _members = [];
    private PolicyNodeSet? _policyNodes; // null while the policy allows all: nothing asks it then
    private readonly Dictionary<IReadOnlySet<long>, PeerIdSet> _classSets = new(ReferenceEqualityComparer.Instance);
    private PolicyNodeSet? _classSetsOf; // the node set and policy the class sets came from
    private IAccessPolicy? _classSetsPolicy;

    /// <summary>The policy in force (<see cref="AllowAllPolicy"/> until one is set).</summary>
    public IAccessPolicy Policy
    {
        get
        {
            _views.EnterReadLock();
            try
            {
                return _policy;
            }
            finally
            {
                _views.ExitReadLock();
            }
        }
    }

    /// <summary>
    /// Puts a policy in force: every connected node gets the peers it may now see (and loses the ones
    /// it may not) and its new filter, in one delta each, with only what changed. Between two compiled
    /// policies only the views of the nodes a changed rule names are recomputed (<see cref="PolicyChangeScope"/>).
    /// </summary>
    public void SetPolicy(IAccessPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _views.EnterWriteLock();
        try
        {
            var scope = PolicyChangeScope.Between(_policy, policy);
            _policy = policy;
            _policyNodes = policy.AllowsAll ? null : new PolicyNodeSet(_members.Values);
            MeshSnapshot? everyone = null;
            foreach (var (id, session) in _sessions)
            {
                if (_members.TryGetValue(id, out var member) && (scope is null || scope.Concerns(member)))
                {
                    var (visible, filter) = ComputeViewLocked(member);
                    ApplyViewLocked(session, visible, filter, ref everyone);
                }
            }
        }
        finally
        {
            _views.ExitWriteLock();
        }
    }

    /// <summary>A node joined or its entry changed in more than reachability; under its stripe.</summary>
    private void ChangeMemberLocked(PeerInfo? old, PeerInfo info)
    {
        _views.EnterWriteLock();
        try
        {
            _nodes[info.Id] = info;
            var member = PolicyNodes.From(info);
            _members[info.Id] = member;
            TrackOfferLocked(info.Id, info);
            var plainPeers = TrackPlainPeerLocked(old, info, info.Id);
            if (_policy.AllowsAll || plainPeers || (old is not null && !PolicyNodes.MattersToPolicy(old, info)))
            {
                // Nobody's view changes (a rename, a new node key): the entry goes to those who see it.
                foreach (var (id, session) in _sessions)
                {
                    if (id == info.Id)
                    {
                        session.Update(d => d.SelfChanged(info));
                    }
                    else if (session.View.Sees(info.Id))
                    {
                        var entry = EntryForLocked(session.View, id, info);
                        session.Update(d => d.Changed(entry));
                    }
                }

                if (plainPeers)
                {
                    RecomputeAllViewsLocked();
                }

                return;
            }

            _policyNodes = new PolicyNodeSet(_members.Values);
            var seenBy = _policy.VisiblePeers(member, _policyNodes);
            var moved = new Dictionary<PeerIdSet, PeerIdSet>(); // views that shared a set share its successor
            Func<PeerIdSet, PeerIdSet> gain = set => set.With(info.Id), lose = set => set.Without(info.Id);
            foreach (var (id, session) in _sessions)
            {
                if (id == info.Id)
                {
                    session.Update(d => d.SelfChanged(info));
                    var (visible, filter) = ComputeViewLocked(member);
                    MeshSnapshot? everyone = null;
                    ApplyViewLocked(session, visible, filter, ref everyone);
                    continue;
                }

                var view = session.View;
                var saw = view.Sees(info.Id);
                var sees = seenBy.Contains(id);
                if (sees)
                {
                    if (view.Visible is { } visible)
                    {
                        view.Visible = PeerIdSet.Rebase(visible, moved, gain);
                    }

                    var entry = EntryForLocked(view, id, info);
                    session.Update(d => d.Changed(entry));
                }
                else if (saw)
                {
                    if (view.Visible is { } visible)
                    {
                        view.Visible = PeerIdSet.Rebase(visible, moved, lose);
                    }

                    view.Withheld?.Remove(info.Id);
                    session.Update(d => d.Removed(info.Id));
                }

                if (saw || sees)
                {
                    RefreshFilterLocked(session);
                }
            }
        }
        finally
        {
            _views.ExitWriteLock();
        }
    }

    /// <summary>A node left (already out of <see cref="_nodes"/>, its own session closed); under the write lock.</summary>
    private void RemoveMemberLocked(long removed)
    {
        _members.Remove(removed);
        TrackOfferLocked(removed, null);
        var plainPeers = TrackPlainPeerLocked(null, null, removed);
        if (!_policy.AllowsAll)
        {
            _policyNodes = new PolicyNodeSet(_members.Values);
        }

        var moved = new Dictionary<PeerIdSet, PeerIdSet>();
        Func<PeerIdSet, PeerIdSet> lose = set => set.Without(removed);
        foreach (var (_, session) in _sessions)
        {
            var view = session.View;
            if (!view.Sees(removed))
            {
                continue; // it never reached this node, so neither does its leaving
            }

            if (view.Visible is { } visible)
            {
                view.Visible = PeerIdSet.Rebase(visible, moved, lose);
            }

            view.Withheld?.Remove(removed);
            session.Update(d => d.Removed(removed));
            if (!_policy.AllowsAll)
            {
                RefreshFilterLocked(session);
            }
        }

        if (plainPeers)
        {
            RecomputeAllViewsLocked();
        }
    }

    /// <summary>The view a connecting node starts with; under the write lock.</summary>
    private NodeView ViewOfLocked(long id)
    {
        if (_policy.AllowsAll || !_members.TryGetValue(id, out var member))
        {
            return NodeView.Everything(id);
        }

        var (visible, filter) = ComputeViewLocked(member);
        return new NodeView(id, visible, filter);
    }

    private (PeerIdSet? Visible, PacketFilter Filter) ComputeViewLocked(PolicyNode member)
    {
        if (_policy.AllowsAll)
        {
            return (null, PacketFilter.AllowAll);
        }

        var nodes = _policyNodes ??= new PolicyNodeSet(_members.Values);
        var visible = ClassSetLocked(_policy.ClassPeers(member, nodes), nodes);
        var filter = WithPlainPeersLocked(member.Id, ref visible, _policy.InboundFilter(member, nodes));
        return (visible, filter);
    }

    /// <summary>
    /// The one <see cref="PeerIdSet"/> for a class's shared peers while the policy and its node set last:
    /// the nodes of a class hold one array between them, not a copy each.
    /// </summary>
    private PeerIdSet ClassSetLocked(IReadOnlySet<long> classPeers, PolicyNodeSet nodes)
    {
        if (!ReferenceEquals(_classSetsOf, nodes) || !ReferenceEquals(_classSetsPolicy, _policy))
        {
            _classSets.Clear();
            _classSetsOf = nodes;
            _classSetsPolicy = _policy;
        }

        if (!_classSets.TryGetValue(classPeers, out var set))
        {
            set = PeerIdSet.From(classPeers);
            _classSets[classPeers] = set;
        }

        return set;
    }

    /// <summary>
    /// Moves a session to a new view, queueing the peers it gains and loses and its filter if it changed.
    /// To or from seeing everything (a first policy, or none), the difference is "every peer but those
    /// kept", queued as that against <paramref name="everyone"/> (taken once per change, on first need).
    /// </summary>
    private void ApplyViewLocked(MeshSession session, PeerIdSet? next, PacketFilter filter, ref MeshSnapshot? everyone)
    {
        var view = session.View;
        var previous = view.Visible;
        var self = session.NodeId;
        var gained = new List<PeerInfo>();
        var lost = new List<long>();
        AllPeersExcept? allGained = null, allLost = null;
        if (previous is not null && next is not null && !ReferenceEquals(previous, next))
        {
            // Both bounded by the policy: one walk over the two ascending lists, not the whole mesh.
            var (was, now) = (previous.Ids, next.Ids);
            int i = 0, j = 0;
            while (i < was.Length || j < now.Length)
            {
                if (j == now.Length || (i < was.Length && was[i] < now[j]))
                {
                    if (was[i] != self)
                    {
                        lost.Add(was[i]);
                    }

                    i++;
                }
                else if (i == was.Length || now[j] < was[i])
                {
                    if (now[j] != self && _nodes.TryGetValue(now[j], out var peer))
                    {
                        gained.Add(EntryForLocked(view, self, peer));
                    }

                    j++;
                }
                else
                {
                    i++;
                    j++;
                }
            }
        }
        else if (previous is null && next is not null)
        {
            everyone ??= new MeshSnapshot(_nodes.Values);
            allLost = new AllPeersExcept(everyone, next, self);
        }
        else if (previous is not null)
        {
            everyone ??= new MeshSnapshot(_nodes.Values);
            allGained = new AllPeersExcept(everyone, previous, self);
        }

        foreach (var id in lost)
        {
            view.Withheld?.Remove(id);
        }

        AddOfferChangesLocked(view, self, previous, next, gained);

        view.Visible = next;
        var filterChanged = !PacketFilterEquality.Same(filter, view.Filter);
        view.Filter = filter;
        if (gained.Count == 0 && lost.Count == 0 && (allGained?.IsEmpty ?? true) && (allLost?.IsEmpty ?? true) && !filterChanged)
        {
            return;
        }

        session.Update(d =>
        {
            if (allGained is { IsEmpty: false })
            {
                d.ChangedAll(allGained);
            }

            if (allLost is { IsEmpty: false })
            {
                d.RemovedAll(allLost);
            }

            foreach (var peer in gained)
            {
                d.Changed(peer);
            }

            if (d.AppliesKept && next is not null && lost.Count > next.Count)
            {
                d.KeepOnly(next.IdsWithout(self)); // an edit that takes most of a node's peers: name the few left instead
            }
            else
            {
                foreach (var id in lost)
                {
                    d.Removed(id);
                }
            }

            if (filterChanged)
            {
                d.FilterChanged(filter);
            }
        });
    }

    private void RefreshFilterLocked(MeshSession session)
    {
        if (!_members.TryGetValue(session.NodeId, out var member) || _policyNodes is null)
        {
            return;
        }

        var filter = WithPlainPeersLocked(member.Id, _policy.InboundFilter(member, _policyNodes));
        if (!PacketFilterEquality.Same(filter, session.View.Filter))
        {
            session.View.Filter = filter;
            session.Update(d => d.FilterChanged(filter));
        }
    }
}
