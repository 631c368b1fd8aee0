using System.Collections.Immutable;
using Trellis.Core.Control;

namespace Trellis.Node.Control;

/// <summary>
/// Builds the node's <see cref="NetMap"/> from a full map and applies deltas to it. Peers live in an
/// immutable dictionary, so a delta costs work in proportion to the peers it names, not the mesh size.
/// </summary>
public static class NetMapBuilder
{
    private static long _generations;

    public static NetMap FromFull(FullMap full)
    {
        ArgumentNullException.ThrowIfNull(full);
        var peers = ImmutableDictionary.CreateBuilder<long, PeerInfo>();
        foreach (var peer in full.Peers)
        {
            peers[peer.Id] = peer;
        }

        return new NetMap
        {
            Self = full.Self,
            Peers = peers.ToImmutable(),
            RelayMap = full.RelayMap,
            OverlayPrefixes = full.OverlayPrefixes,

            // A server without policies sends none: everything is allowed, as before policies existed.
            PacketFilter = full.PacketFilter ?? PacketFilter.AllowAll,
            Dns = full.Dns,
            Replicas = ReplicaUrls.Parse(full.Replicas),
            Generation = Interlocked.Increment(ref _generations),
        };
    }

    /// <summary>Applies <paramref name="delta"/> in the protocol's order: changed, kept, removed, patches, self, filter, replicas, relay map (null: unchanged).</summary>
    public static NetMap Apply(NetMap map, MapDelta delta)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(delta);
        var peers = (map.Peers as ImmutableDictionary<long, PeerInfo> ?? map.Peers.ToImmutableDictionary()).ToBuilder();
        var changed = new HashSet<long>();
        foreach (var peer in delta.PeersChanged)
        {
            peers[peer.Id] = peer;
            changed.Add(peer.Id);
        }

        if (delta.PeersKept is { } kept)
        {
            peers = Keep(peers, kept, delta.PeersChanged);
        }

        foreach (var id in delta.PeersRemoved)
        {
            if (peers.Remove(id))
            {
                changed.Add(id);
            }
        }

        foreach (var patch in delta.Patches)
        {
            // A patch for a peer removed in the same delta (or never seen) has nothing to change.
            if (peers.TryGetValue(patch.Id, out var peer))
            {
                peers[patch.Id] = peer with
                {
                    Endpoints = patch.Endpoints ?? peer.Endpoints,
                    HomeRelay = patch.HomeRelay ?? peer.HomeRelay,
                    Online = patch.Online ?? peer.Online,
                };
                changed.Add(patch.Id);
            }
        }

        return map with
        {
            Self = delta.Self ?? map.Self,
            Peers = peers.ToImmutable(),
            PacketFilter = delta.PacketFilter ?? map.PacketFilter,
            Replicas = delta.Replicas is { } replicas ? ReplicaUrls.Parse(replicas) : map.Replicas,
            RelayMap = delta.RelayMap ?? map.RelayMap,
            Generation = Interlocked.Increment(ref _generations),

            // Kept peers drop an unknown number: no short list of changes then.
            Changes = map.Generation != 0 && delta.PeersKept is null ? new PeerChanges(map.Generation, changed) : null,
        };
    }

    /// <summary>Only the peers named kept or changed, built afresh: O(peers kept), however many are dropped.</summary>
    private static ImmutableDictionary<long, PeerInfo>.Builder Keep(
        ImmutableDictionary<long, PeerInfo>.Builder peers, IReadOnlyList<long> kept, IReadOnlyList<PeerInfo> changed)
    {
        var left = ImmutableDictionary.CreateBuilder<long, PeerInfo>();
        foreach (var id in kept)
        {
            if (peers.TryGetValue(id, out var peer))
            {
                left[id] = peer;
            }
        }

        foreach (var peer in changed)
        {
            left[peer.Id] = peer;
        }

        return left;
    }
}
