using Trellis.Core.Build;
using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

// Resuming a map session: the node says what its map holds (MapResume), and is sent the difference
// between that and its view now, instead of a full map.
public sealed partial class MeshState
{
    /// <summary>
    /// The delta that turns the map <paramref name="resume"/> describes into <paramref name="self"/>'s
    /// view now, or null when a full map must be sent (the digests do not read, or the settings a
    /// delta cannot carry differ). Every visible peer whose digest is missing or differs is sent
    /// whole, every peer held but no longer visible is removed, and the node's own entry, filter,
    /// relay map and replicas always travel, so nothing the node holds is left unchecked.
    /// Called under the view lock's write side.
    /// </summary>
    private MapDelta? ResumeLocked(PeerInfo self, NodeView view, MapResume resume)
    {
        if (resume.Settings != MapDigest.OfSettings(_overlayPrefixes, _dns) || !MapDigest.TryRead(resume.Peers, out var held))
        {
            return null;
        }

        var changed = new List<PeerInfo>();
        foreach (var (id, peer) in _nodes)
        {
            if (id == self.Id || !view.Sees(id))
            {
                continue;
            }

            var entry = EntryForLocked(view, self.Id, peer);
            if (!held.TryGetValue(id, out var digest) || digest != MapDigest.OfShared(entry))
            {
                changed.Add(entry);
            }
        }

        var removed = new List<long>();
        foreach (var id in held.Keys)
        {
            if (id == self.Id || !_nodes.ContainsKey(id) || !view.Sees(id))
            {
                removed.Add(id);
            }
        }

        return new MapDelta
        {
            PeersChanged = changed,
            PeersRemoved = removed,
            Self = self,

            // Null in a delta leaves the filter as it was: a mesh without a policy says so outright.
            PacketFilter = view.Filter ?? PacketFilter.AllowAll,
            Replicas = _replicaUrls,
            RelayMap = _relayMap(),
            ServerVersion = BuildInfo.Short,
        };
    }
}
