using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

/// <summary>
/// Changes waiting for one session's writer, coalesced: a peer changed twice is sent once, patches
/// to one peer merge, a removal cancels what was pending for that peer, and only the latest packet
/// filter is sent. A policy change's "every peer but these" (<see cref="AllPeersExcept"/>) stays a
/// description until a change of one peer must be merged with it or the writer takes the delta.
/// Guarded by its session's lock.
/// </summary>
internal sealed class PendingDelta
{
    private readonly Dictionary<long, PeerInfo> _changed = [];
    private readonly HashSet<long> _removed = [];
    private readonly Dictionary<long, PeerPatch> _patches = [];
    private AllPeersExcept? _allChanged; // set only while no other peer change is pending
    private AllPeersExcept? _allRemoved; // likewise
    private PeerInfo? _self;
    private PacketFilter? _filter;

    public bool IsEmpty => NoPeerPending && _self is null && _filter is null;

    private bool NoPeerPending =>
        _changed.Count == 0 && _removed.Count == 0 && _patches.Count == 0 && _allChanged is null && _allRemoved is null;

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

    public MapDelta Take()
    {
        var delta = new MapDelta
        {
            PeersChanged = _allChanged is { } changed ? changed.Peers() : [.. _changed.Values],
            PeersRemoved = _allRemoved is { } removed ? removed.Ids() : [.. _removed],
            Patches = [.. _patches.Values],
            Self = _self,
            PacketFilter = _filter,
        };
        _allChanged = null;
        _allRemoved = null;
        _changed.Clear();
        _removed.Clear();
        _patches.Clear();
        _self = null;
        _filter = null;
        return delta;
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
