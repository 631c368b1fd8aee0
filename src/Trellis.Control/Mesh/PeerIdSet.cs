using System.Collections;

namespace Trellis.Control.Mesh;

/// <summary>
/// The peers a node's view holds under a policy: ascending ids in an array that never changes, so the
/// nodes of one policy class (a user's devices, one tag's servers) share one, and a change makes a new
/// set that every view holding the old one moves to (<see cref="Rebase"/>). With a hash set per node
/// (some 28 bytes per peer, copied from the class's at every first policy), a first policy on 10,000
/// nodes seeing 600 peers each added 127 MiB to the server; shared, 31 (docs/BENCHMARKS.md). It may
/// hold the viewing node itself (a class sees its own members); <see cref="NodeView.Sees"/> leaves it out.
/// </summary>
internal sealed class PeerIdSet : IReadOnlyCollection<long>
{
    private readonly long[] _ids;

    private PeerIdSet(long[] ascending) => _ids = ascending;

    public static PeerIdSet Empty { get; } = new([]);

    /// <summary>The ids of <paramref name="ids"/>, copied and sorted.</summary>
    public static PeerIdSet From(IEnumerable<long> ids)
    {
        long[] copy = [.. ids];
        Array.Sort(copy);
        return new PeerIdSet(copy);
    }

    public int Count => _ids.Length;

    /// <summary>Ascending; never to be changed by anyone holding it.</summary>
    public long[] Ids => _ids;

    public bool Contains(long id) => Array.BinarySearch(_ids, id) >= 0;

    /// <summary>This set with <paramref name="id"/>; itself when it is already in.</summary>
    public PeerIdSet With(long id)
    {
        var at = Array.BinarySearch(_ids, id);
        if (at >= 0)
        {
            return this;
        }

        at = ~at;
        var ids = new long[_ids.Length + 1];
        Array.Copy(_ids, ids, at);
        ids[at] = id;
        Array.Copy(_ids, at, ids, at + 1, _ids.Length - at);
        return new PeerIdSet(ids);
    }

    /// <summary>This set without <paramref name="id"/>; itself when it is not in.</summary>
    public PeerIdSet Without(long id)
    {
        var at = Array.BinarySearch(_ids, id);
        if (at < 0)
        {
            return this;
        }

        var ids = new long[_ids.Length - 1];
        Array.Copy(_ids, ids, at);
        Array.Copy(_ids, at + 1, ids, at, _ids.Length - at - 1);
        return new PeerIdSet(ids);
    }

    /// <summary>The ids but <paramref name="self"/>, read through this set's array (no copy either way).</summary>
    public IReadOnlyList<long> IdsWithout(long self)
    {
        var at = Array.BinarySearch(_ids, self);
        return at < 0 ? _ids : new IdsExceptOne(_ids, at);
    }

    /// <summary>
    /// Moves every view of one change from <paramref name="set"/> to <paramref name="change"/> of it through
    /// <paramref name="moved"/>, so the views that shared a set share its successor instead of each getting a copy.
    /// </summary>
    public static PeerIdSet Rebase(PeerIdSet set, Dictionary<PeerIdSet, PeerIdSet> moved, Func<PeerIdSet, PeerIdSet> change)
    {
        if (!moved.TryGetValue(set, out var next))
        {
            next = change(set);
            moved[set] = next;
        }

        return next;
    }

    public IEnumerator<long> GetEnumerator() => ((IEnumerable<long>)_ids).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
