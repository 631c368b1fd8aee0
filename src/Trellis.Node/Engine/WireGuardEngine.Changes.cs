using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Discovery;

namespace Trellis.Node.Engine;

/// <summary>
/// A delta on the map applied last that moved peers' paths only (endpoints, home relay, relay offer):
/// each peer it names is updated where its paths are kept and nothing else is looked at, so a node
/// of thousands of peers spends the delta's work on it, not the mesh's. Anything more (a peer added,
/// removed or re-addressed, the node itself, the filter, the settings) reconciles the whole map.
/// </summary>
public sealed partial class WireGuardEngine
{
    // guarded by _gate: the map and settings applied last in full or by changes; null after a failure,
    // so the next map is reconciled in full and the failed changes retried
    private NetMap? _lastMap;
    private EngineSettings? _lastSettings;

    /// <summary>How many maps were applied as changes to the last one rather than in full (for tests).</summary>
    internal int ChangeApplies { get; private set; }

    /// <summary>Applies <paramref name="map"/> as the peer changes it names; false (nothing done) when it must be reconciled in full. Called with _gate held.</summary>
    private bool TryApplyPeerChanges(NetMap map, EngineSettings settings)
    {
        if (_lastMap is not { } last || _lastSettings is not { } lastSettings || !SameAsLast(map, last) || !SameSettings(settings, lastSettings)
            || PeerChanges.Between(last, map, OnlyPathsDiffer) is not { } moved)
        {
            return false;
        }

        if (_discovery is not null)
        {
            var peers = new List<DiscoPeer>(moved.Count);
            foreach (var (_, after) in moved)
            {
                if (Key.TryParseBase64(after.NodeKey, out var nodeKey) && Key.TryParseBase64(after.DiscoKey, out var discoKey))
                {
                    peers.Add(new DiscoPeer(nodeKey, discoKey, ParseEndpoints(after.Endpoints), after.HomeRelay, after.PeerRelay, after.MappingVaries));
                }
            }

            if (!_discovery.UpdatePeers(peers))
            {
                return false;
            }

            if (moved.Exists(m => m.Before.HomeRelay != m.After.HomeRelay))
            {
                // Rare beside endpoint moves: the relays' table of peer regions is rebuilt whole.
                _relay!.SetPeerRegions(PeerRegions(map));
            }
        }
        else
        {
            // Without discovery WireGuard sends to the endpoint the map lists, chosen as the planner does.
            var preferIPv6 = EndpointChooser.HasIPv6(map.Self.Endpoints);
            foreach (var (_, after) in moved)
            {
                if (after.Gateway is null && Key.TryParseBase64(after.NodeKey, out var key) && _peers.TryGetValue(key, out var applied)
                    && EndpointChooser.Choose(after.Endpoints, preferIPv6) is { } endpoint && applied.ChosenEndpoint != endpoint)
                {
                    applied.Peer.SetEndpoint(endpoint);
                    applied.ChosenEndpoint = endpoint;
                }
            }
        }

        _lastMap = map;
        ChangeApplies++;
        return true;
    }

    /// <summary>Everything but the peers is the very object applied last (a delta that changed none of it keeps it).</summary>
    private static bool SameAsLast(NetMap map, NetMap last) =>
        ReferenceEquals(map.Self, last.Self) && ReferenceEquals(map.OverlayPrefixes, last.OverlayPrefixes)
        && ReferenceEquals(map.PacketFilter, last.PacketFilter) && ReferenceEquals(map.RelayMap, last.RelayMap)
        && ReferenceEquals(map.Dns, last.Dns);

    // An exit node is chosen by name among the peers, so with one set any peer change may move it.
    private static bool SameSettings(EngineSettings settings, EngineSettings last) =>
        settings.ExitNode is null && last.ExitNode is null
        && settings with { AdvertisedRoutes = last.AdvertisedRoutes } == last
        && settings.AdvertisedRoutes.SequenceEqual(last.AdvertisedRoutes);

    /// <summary>Whether the engine's only concern with the change is where the peer is reached (what the planner and the filter use is the same).</summary>
    private static bool OnlyPathsDiffer(PeerInfo before, PeerInfo after) =>
        before.NodeKey == after.NodeKey && before.DiscoKey == after.DiscoKey && before.Gateway == after.Gateway
        && before.Name == after.Name && before.Addresses.SequenceEqual(after.Addresses) && before.AllowedIps.SequenceEqual(after.AllowedIps);

    private static Dictionary<Key, int> PeerRegions(NetMap map)
    {
        var regions = new Dictionary<Key, int>(map.Peers.Count);
        foreach (var info in map.Peers.Values)
        {
            if (Key.TryParseBase64(info.NodeKey, out var nodeKey) && Key.TryParseBase64(info.DiscoKey, out _))
            {
                regions[nodeKey] = info.HomeRelay;
            }
        }

        return regions;
    }
}
