using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

/// <summary>
/// Every peer of a <see cref="MeshSnapshot"/> but the node itself and the few it keeps: what a node
/// loses when a first policy narrows its view to a few peers, or gains when the policy is removed.
/// Queued as this description and listed only when the node's writer takes its delta, so the policy
/// change costs each node O(peers kept) under the mesh's lock, not O(mesh), and the mesh-sized lists
/// are built one at a time on the writers' threads, each just before it is sent.
/// </summary>
internal sealed class AllPeersExcept
{
    private readonly MeshSnapshot _everyone;
    private readonly long[] _kept; // a copy, or a PeerIdSet's array (ascending, never changed, perhaps with the node itself)
    private readonly IReadOnlyList<long> _keptOthers; // the same without the node itself
    private readonly long _self;
    private bool _sorted; // guarded by the owning delta's session lock, as the listing is

    public AllPeersExcept(MeshSnapshot everyone, IReadOnlyCollection<long> kept, long self)
    {
        _everyone = everyone;
        _kept = [.. kept];
        _keptOthers = _kept;
        _self = self;
    }

    /// <summary>As the other, reading the set's own array instead of a copy: the nodes of a class share it.</summary>
    public AllPeersExcept(MeshSnapshot everyone, PeerIdSet kept, long self)
    {
        _everyone = everyone;
        _kept = kept.Ids;
        _keptOthers = kept.IdsWithout(self);
        _self = self;
        _sorted = true;
    }

    /// <summary>The peers kept (the node itself is not among them).</summary>
    public IReadOnlyCollection<long> Kept => _keptOthers;

    /// <summary>The same, for a delta to send as it is: never changed by either, though listing may sort a copied one.</summary>
    public IReadOnlyList<long> KeptIds => _keptOthers;

    /// <summary>
    /// Whether naming the peers kept takes fewer ids than listing the others (<see cref="MapDelta.PeersKept"/>
    /// against <see cref="MapDelta.PeersRemoved"/>); judged from the counts alone, without a walk.
    /// </summary>
    public bool KeptIsShorter => _keptOthers.Count < _everyone.Ids.Length - 1 - _keptOthers.Count;

    /// <summary>
    /// True when no peer is left over. The mesh holds more entries than the node and its kept peers
    /// together in every case that matters (a policy over a large mesh), and then needs no walk.
    /// </summary>
    public bool IsEmpty => _everyone.Ids.Length <= _kept.Length + 1 && Count() == 0;

    public long[] Ids()
    {
        var ids = new long[Count()];
        var n = 0;
        var k = 0;
        foreach (var id in _everyone.Ids)
        {
            if (Included(id, ref k))
            {
                ids[n++] = id;
            }
        }

        return ids;
    }

    public PeerInfo[] Peers()
    {
        var peers = new PeerInfo[Count()];
        var n = 0;
        var k = 0;
        var ids = _everyone.Ids;
        for (var i = 0; i < ids.Length; i++)
        {
            if (Included(ids[i], ref k))
            {
                peers[n++] = _everyone.Peers[i];
            }
        }

        return peers;
    }

    private int Count()
    {
        if (!_sorted)
        {
            Array.Sort(_kept);
            _sorted = true;
        }

        var count = 0;
        var k = 0;
        foreach (var id in _everyone.Ids)
        {
            count += Included(id, ref k) ? 1 : 0;
        }

        return count;
    }

    /// <summary>One step of a merge walk over the two ascending lists; <paramref name="k"/> is the walk's place in the kept ones.</summary>
    private bool Included(long id, ref int k)
    {
        while (k < _kept.Length && _kept[k] < id)
        {
            k++;
        }

        return id != _self && (k == _kept.Length || _kept[k] != id);
    }
}
