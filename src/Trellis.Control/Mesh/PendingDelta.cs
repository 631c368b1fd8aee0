using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

/// <summary>
/// Changes waiting for one session's writer, coalesced: a peer changed twice is sent once, patches
/// to one peer merge, a removal cancels what was pending for that peer, and only the latest packet
/// filter is sent. A policy change's "every peer but these" (<see cref="AllPeersExcept"/>) stays a
/// description until a change of one peer must be merged with it or the writer takes the delta.
/// For a node that applies <see cref="MapDelta.PeersKept"/>, a loss of most peers is queued as the few
/// kept instead, which later single-peer changes merge with directly (the node keeps those changed too).
/// Guarded by its session's lock.
/// </summary>
internal sealed class PendingDelta(bool appliesKept = false)
{
    // Replaced after a take that grew them (Take): a join storm's merged deltas fill them with
    // dozens of peers, and thousands of quiet sessions must not keep that capacity.
    private Dictionary<long, PeerInfo> _changed = [];
    private HashSet<long> _removed = [];
    private Dictionary<long, PeerPatch> _patches = [];
    private AllPeersExcept? _allChanged; // set only while no other peer change is pending
    private AllPeersExcept? _allRemoved; // likewise
    private HashSet<long>? _kept; // non-null: the node keeps only these and those in _changed, then removes _removed
    private IReadOnlyList<long>? _keptIds; // the same, as a first policy gave it with nothing else pending: sent as is unless a change needs the set
    private PeerInfo? _self;
    private PacketFilter? _filter;
    private IReadOnlyList<string>? _replicas;

    /// <summary>The node announced <see cref="ControlProtocol.PeersKept"/>.</summary>
    public bool AppliesKept => appliesKept;

    public bool IsEmpty => NoPeerPending && _self is null && _filter is null && _replicas is null;

    private bool NoPeerPending =>
        _changed.Count == 0 && _removed.Count == 0 && _patches.Count == 0 && _allChanged is null && _allRemoved is null && _kept is null && _keptIds is null;

    /// <summary>Every peer of the set changed (sent in full), e.g. a policy was removed.</summary>
    public void ChangedAll(AllPeersExcept peers)
    {
        if (NoPeerPending)
        {
            _allChanged = peers;
            return;
        }

        foreach (var peer in peers.Peers())
        {
            Changed(peer);
        }
    }

    /// <summary>Every peer of the set is gone from this node's view, e.g. a first policy narrowed it.</summary>
    public void RemovedAll(AllPeersExcept peers)
    {
        if (appliesKept && (_kept is not null || _keptIds is not null || peers.KeptIsShorter))
        {
            if (NoPeerPending)
            {
                // A first policy over a large mesh: one array per node, not a set built and listed again.
                _keptIds = peers.KeptIds;
                return;
            }

            KeepOnly(peers.Kept);
            return;
        }

        if (NoPeerPending)
        {
            _allRemoved = peers;
            return;
        }

        foreach (var id in peers.Ids())
        {
            Removed(id);
        }
    }

    /// <summary>
    /// The node's peers are now only <paramref name="kept"/> (copied): every other one it has is gone.
    /// Only for a node that <see cref="AppliesKept"/>. Pending removals stay (they apply after the kept
    /// set); pending changes and patches of peers not kept are dropped, as their peers will be.
    /// </summary>
    public void KeepOnly(IEnumerable<long> kept)
    {
        if (!appliesKept)
        {
            throw new InvalidOperationException("this node does not apply a kept set");
        }

        Expand();
        var now = new HashSet<long>(kept); // sized once from a collection, not grown through each add
        if (KeptSet() is { } earlier)
        {
            earlier.IntersectWith(now); // of the peers the node had, those kept then and now
        }
        else
        {
            _kept = now;
        }

        // Peers changed since the earlier kept set stay if kept now. (Removing while enumerating is
        // allowed for Dictionary since .NET Core 3.0.)
        foreach (var id in _changed.Keys)
        {
            if (!now.Contains(id))
            {
                _changed.Remove(id);
            }
        }

        foreach (var id in _patches.Keys)
        {
            if (!now.Contains(id))
            {
                _patches.Remove(id);
            }
        }
    }

    public void Changed(PeerInfo peer)
    {
        Expand();
        _removed.Remove(peer.Id);
        _patches.Remove(peer.Id); // the full entry carries the patched fields too
        _changed[peer.Id] = peer;
    }

    public void Removed(long id)
    {
        Expand();
        _changed.Remove(id);
        _patches.Remove(id);
        if (KeptSet() is { } kept)
        {
            // Neither kept nor changed, the node drops it anyway.
            kept.Remove(id);
            return;
        }

        _removed.Add(id);
    }

    public void Patched(PeerPatch patch, PeerInfo current)
    {
        Expand();
        if (_changed.ContainsKey(patch.Id))
        {
            _changed[patch.Id] = current;
            return;
        }

        if (KeptSet() is { } kept && !kept.Contains(patch.Id))
        {
            return; // a peer the node drops: nothing to patch
        }

        _patches[patch.Id] = _patches.TryGetValue(patch.Id, out var earlier)
            ? new PeerPatch
            {
                Id = patch.Id,
                Endpoints = patch.Endpoints ?? earlier.Endpoints,
                HomeRelay = patch.HomeRelay ?? earlier.HomeRelay,
                Online = patch.Online ?? earlier.Online,
            }
            : patch;
    }

    public void SelfChanged(PeerInfo self) => _self = self;

    public void FilterChanged(PacketFilter filter) => _filter = filter;

    /// <summary>The running replicas' URLs changed: only the latest list is sent.</summary>
    public void ReplicasChanged(IReadOnlyList<string> urls) => _replicas = urls;

    public MapDelta Take()
    {
        var delta = new MapDelta
        {
            PeersChanged = _allChanged is { } changed ? changed.Peers() : [.. _changed.Values],
            PeersKept = _keptIds ?? (_kept is { } kept ? [.. kept] : null),
            PeersRemoved = _allRemoved is { } removed ? removed.Ids() : [.. _removed],
            Patches = [.. _patches.Values],
            Self = _self,
            PacketFilter = _filter,
            Replicas = _replicas,
        };
        _allChanged = null;
        _allRemoved = null;
        _kept = null;
        _keptIds = null;
        if (_changed.Count > KeptCapacity)
        {
            _changed = [];
        }

        if (_removed.Count > KeptCapacity)
        {
            _removed = [];
        }

        if (_patches.Count > KeptCapacity)
        {
            _patches = [];
        }

        _changed.Clear();
        _removed.Clear();
        _patches.Clear();
        _self = null;
        _filter = null;
        _replicas = null;
        return delta;
    }

    /// <summary>Up to this many entries a taken collection is cleared and kept for the next delta; above, it is let go.</summary>
    private const int KeptCapacity = 8;

    /// <summary>The kept set, made from the kept ids first if a policy change left only those.</summary>
    private HashSet<long>? KeptSet()
    {
        if (_keptIds is { } ids)
        {
            _kept = [.. ids];
            _keptIds = null;
        }

        return _kept;
    }

    /// <summary>Turns a pending "every peer but these" into single entries, so one peer's change can be merged with it.</summary>
    private void Expand()
    {
        if (_allChanged is { } changed)
        {
            _allChanged = null;
            foreach (var peer in changed.Peers())
            {
                _changed[peer.Id] = peer;
            }
        }

        if (_allRemoved is { } removed)
        {
            _allRemoved = null;
            _removed.UnionWith(removed.Ids());
        }
    }
}
