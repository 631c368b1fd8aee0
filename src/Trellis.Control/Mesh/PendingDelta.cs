using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

/// <summary>
/// Changes waiting for one session's writer, coalesced: a peer changed twice is sent once, patches
/// to one peer merge, a removal cancels what was pending for that peer, and only the latest packet
/// filter is sent. Guarded by its session's lock.
/// </summary>
internal sealed class PendingDelta
{
    private readonly Dictionary<long, PeerInfo> _changed = [];
    private readonly HashSet<long> _removed = [];
    private readonly Dictionary<long, PeerPatch> _patches = [];
    private PeerInfo? _self;
    private PacketFilter? _filter;

    public bool IsEmpty => _changed.Count == 0 && _removed.Count == 0 && _patches.Count == 0 && _self is null && _filter is null;

    public void Changed(PeerInfo peer)
    {
        _removed.Remove(peer.Id);
        _patches.Remove(peer.Id); // the full entry carries the patched fields too
        _changed[peer.Id] = peer;
    }

    public void Removed(long id)
    {
        _changed.Remove(id);
        _patches.Remove(id);
        _removed.Add(id);
    }

    public void Patched(PeerPatch patch, PeerInfo current)
    {
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
            PeersChanged = [.. _changed.Values],
            PeersRemoved = [.. _removed],
            Patches = [.. _patches.Values],
            Self = _self,
            PacketFilter = _filter,
        };
        _changed.Clear();
        _removed.Clear();
        _patches.Clear();
        _self = null;
        _filter = null;
        return delta;
    }
}
