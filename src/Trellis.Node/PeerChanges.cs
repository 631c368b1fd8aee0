using Trellis.Core.Control;

namespace Trellis.Node;

/// <summary>
/// What a delta changed in the peers of the map it was applied to: with these, whatever holds the
/// map of generation <see cref="Base"/> reconfigures only the peers named, in time proportional to the
/// delta rather than the mesh. What else the delta changed (the node itself, the filter, the relay
/// map) keeps or replaces the base map's objects, so a reference comparison tells.
/// </summary>
/// <param name="Base">The <see cref="NetMap.Generation"/> of the map the delta was applied to.</param>
/// <param name="Peers">Ids of the peers added, replaced, patched or removed (each once).</param>
public sealed record PeerChanges(long Base, IReadOnlyCollection<long> Peers)
{
    /// <summary>
    /// What <paramref name="map"/> added, removed and changed in the peers of <paramref name="last"/>,
    /// when it was built from <paramref name="last"/> by a delta; null otherwise (work on the whole map).
    /// </summary>
    public static PeerDiff? Diff(NetMap last, NetMap map)
    {
        ArgumentNullException.ThrowIfNull(last);
        ArgumentNullException.ThrowIfNull(map);
        if (map.Changes is not { } changes || changes.Base != last.Generation || last.Generation == 0)
        {
            return null;
        }

        List<PeerInfo> added = [], removed = [];
        var changed = new List<(PeerInfo Before, PeerInfo After)>(changes.Peers.Count);
        foreach (var id in changes.Peers)
        {
            switch (last.Peers.TryGetValue(id, out var before), map.Peers.TryGetValue(id, out var after))
            {
                case (true, true):
                    changed.Add((before!, after!));
                    break;
                case (false, true):
                    added.Add(after!);
                    break;
                case (true, false):
                    removed.Add(before!);
                    break;
            }
        }

        return new PeerDiff(added, removed, changed);
    }
}
