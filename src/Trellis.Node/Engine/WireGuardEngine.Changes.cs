using System.Net;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Discovery;

namespace Trellis.Node.Engine;

/// <summary>
/// A delta on the map applied last, applied as the peer changes it names: peers added, removed,
/// re-addressed or moved (endpoints, home relay, relay offer) are changed where the device, discovery
/// and the relays keep them, and nothing else is looked at, so a node of thousands of peers spends
/// the delta's work on it, not the mesh's. A delta that touches anything a peer's plan depends on
/// beyond the peer itself (the node, the overlay, the relays, names of an exit node, gateways, subnet
/// routes taken into the OS, a clash between peers) reconciles the whole map.
/// </summary>
public sealed partial class WireGuardEngine
{
    // guarded by _gate: the map and settings applied last in full or by changes; null after a failure,
    // so the next map is reconciled in full and the failed changes retried
    private NetMap? _lastMap;
    private EngineSettings? _lastSettings;

    // guarded by _gate: the map applied last planned every peer alone (no problem, no gateway), as
    // PlanAlone does; changes keep it so, since they take only peers that stand alone
    private bool _peersStandAlone;

    /// <summary>How many maps were applied as changes to the last one rather than in full (for tests).</summary>
    internal int ChangeApplies { get; private set; }

    /// <summary>
    /// Applies <paramref name="map"/> as the peer changes it names; false when it must be reconciled in
    /// full (nothing done, or discovery took part of it, which the full apply's whole peer set then settles).
    /// Called with _gate held.
    /// </summary>
    private bool TryApplyPeerChanges(NetMap map, EngineSettings settings)
    {
        if (_lastMap is not { } last || _lastSettings is not { } lastSettings || !_peersStandAlone || !SameAsLast(map, last)
            || !SameSettings(settings, lastSettings) || PeerChanges.Diff(last, map) is not { } diff
            || PlanChanges(map, settings, diff) is not { } changes)
        {
            return false;
        }

        var filterChanged = !ReferenceEquals(map.PacketFilter, last.PacketFilter);
        if (_discovery is not null && !ApplyDiscoveryChanges(changes))
        {
            return false;
        }

        // Before peers, as in a full apply: a peer the new policy brings in is filtered by it from its first packet.
        if (filterChanged)
        {
            _filter.Update(map.PacketFilter);
        }

        if (_discovery is not null && settings.PeerRelay && (filterChanged || changes.Added.Count > 0 || changes.Readdressed.Count > 0))
        {
            _discovery.SetPeerRelayClients(PeerRelayClients.From(map));
        }

        // Every prefix given up before any is taken: what one changed peer lets go another may hold now.
        foreach (var (removed, applied) in changes.Removed)
        {
            RemoveAppliedPeer(applied, [.. ClaimsOf(applied, removed)]);
        }

        foreach (var (before, planned, applied) in changes.Readdressed)
        {
            ReleaseAllowedIps(applied, [.. ClaimsOf(applied, before).Where(p => !planned.AllowedIps.Contains(p))]);
        }

        foreach (var (_, planned, applied) in changes.Readdressed)
        {
            ClaimAllowedIps(applied, planned.AllowedIps);
        }

        if (_discovery is null)
        {
            foreach (var (info, applied) in changes.Moved)
            {
                // Without discovery WireGuard sends to the endpoint the map lists, chosen as the planner does.
                if (EndpointChooser.Choose(info.Endpoints, changes.PreferIPv6) is { } endpoint && applied.ChosenEndpoint != endpoint)
                {
                    applied.Peer.SetEndpoint(endpoint);
                    applied.ChosenEndpoint = endpoint;
                }
            }
        }

        var added = new List<AppliedPeer>(changes.Added.Count);
        foreach (var (_, planned) in changes.Added)
        {
            added.Add(AddPeer(planned));
        }

        if (added.Count > 0 || changes.Removed.Count > 0)
        {
            Volatile.Write(ref _peerSnapshot, MergeSnapshot(_peerSnapshot, added, [.. changes.Removed.Select(r => r.Applied)]));
        }

        _lastMap = map;
        ChangeApplies++;
        return true;
    }

    /// <summary>
    /// Sorts the delta's peers into what changes can apply, checking that together they plan as the
    /// whole map would; null when the whole map must be planned. Pure: nothing is changed yet.
    /// </summary>
    private PlannedChanges? PlanChanges(NetMap map, EngineSettings settings, PeerDiff diff)
    {
        if (EnginePlanner.Overlay(map) is not { } overlay)
        {
            return null;
        }

        var preferIPv6 = EndpointChooser.HasIPv6(map.Self.Endpoints);
        var changes = new PlannedChanges(preferIPv6);
        var freed = new HashSet<IPNetwork>();
        foreach (var before in diff.Removed)
        {
            if (!TryApplied(before, out var applied) || EnginePlanner.PlanAlone(before, settings, _publicKey, overlay, preferIPv6) is null)
            {
                return null;
            }

            changes.Removed.Add((before, applied));
            foreach (var prefix in ClaimsOf(applied, before))
            {
                freed.Add(prefix);
            }
        }

        var claimed = new HashSet<IPNetwork>();
        foreach (var (before, after) in diff.Changed)
        {
            if (!TryApplied(before, out var applied) || before.NodeKey != after.NodeKey || before.DiscoKey != after.DiscoKey || after.Gateway is not null)
            {
                return null;
            }

            if (before.Addresses.SequenceEqual(after.Addresses) && before.AllowedIps.SequenceEqual(after.AllowedIps))
            {
                changes.Moved.Add((after, applied));
                continue;
            }

            if (EnginePlanner.PlanAlone(after, settings, _publicKey, overlay, preferIPv6) is not { } planned)
            {
                return null;
            }

            changes.Moved.Add((after, applied));
            changes.Readdressed.Add((before, planned, applied));
            foreach (var prefix in ClaimsOf(applied, before))
            {
                freed.Add(prefix);
            }
        }

        var keys = new HashSet<Key>();
        foreach (var info in diff.Added)
        {
            if (EnginePlanner.PlanAlone(info, settings, _publicKey, overlay, preferIPv6) is not { } planned
                || _peers.ContainsKey(planned.Key) || !keys.Add(planned.Key))
            {
                return null;
            }

            changes.Added.Add((info, planned));
        }

        // Every prefix to one peer, as WireGuard routes it: a clash is the planner's to report.
        foreach (var planned in changes.Readdressed.Select(r => r.Planned).Concat(changes.Added.Select(a => a.Planned)))
        {
            foreach (var prefix in planned.AllowedIps)
            {
                if (!claimed.Add(prefix) || (_allowedIps.ContainsKey(prefix) && !freed.Contains(prefix)))
                {
                    return null;
                }
            }
        }

        return changes;
    }

    /// <summary>The delta's peers in discovery and the relays' table of peer regions; false when discovery needs the whole set.</summary>
    private bool ApplyDiscoveryChanges(PlannedChanges changes)
    {
        var moved = new List<DiscoPeer>(changes.Moved.Count);
        foreach (var (info, _) in changes.Moved)
        {
            if (DiscoPeerOf(info) is not { } peer)
            {
                return false;
            }

            moved.Add(peer);
        }

        var added = new List<DiscoPeer>(changes.Added.Count);
        foreach (var (info, _) in changes.Added)
        {
            if (DiscoPeerOf(info) is not { } peer)
            {
                return false;
            }

            added.Add(peer);
        }

        var removed = changes.Removed.Select(r => r.Applied.Key).ToList();
        if (!_discovery!.ChangePeers(added, removed) || !_discovery.UpdatePeers(moved))
        {
            return false;
        }

        _relay!.ChangePeerRegions(
            moved.Concat(added).Select(p => KeyValuePair.Create(p.NodeKey, p.HomeRelay)),
            removed);
        return true;
    }

    private static DiscoPeer? DiscoPeerOf(PeerInfo info) =>
        Key.TryParseBase64(info.NodeKey, out var nodeKey) && Key.TryParseBase64(info.DiscoKey, out var discoKey)
            ? new DiscoPeer(nodeKey, discoKey, ParseEndpoints(info.Endpoints), info.HomeRelay, info.PeerRelay, info.MappingVaries)
            : null;

    /// <summary>The device peer the map applied last made of <paramref name="info"/>.</summary>
    private bool TryApplied(PeerInfo info, out AppliedPeer applied)
    {
        applied = null!;
        return Key.TryParseBase64(info.NodeKey, out var key) && _peers.TryGetValue(key, out applied!) && applied.Id == info.Id;
    }

    /// <summary>The prefixes the peer holds, read from its map entry (a peer that stands alone holds its addresses).</summary>
    private IEnumerable<IPNetwork> ClaimsOf(AppliedPeer applied, PeerInfo info)
    {
        foreach (var text in info.Addresses)
        {
            if (Prefixes.TryParseNetwork(text, out var prefix) && _allowedIps.TryGetValue(prefix, out var owner) && owner == applied)
            {
                yield return prefix;
            }
        }
    }

    private AppliedPeer AddPeer(PlannedPeer planned)
    {
        var applied = new AppliedPeer(planned.Key, _device.AddPeer(planned.Key)) { Id = planned.Id };
        _peers.Add(planned.Key, applied);
        LogPeerAdded(_logger, planned.Id, planned.Key.ToBase64(), planned.Endpoint?.ToString() ?? "none");
        if (EndpointFor(planned.Key, planned.Endpoint) is { } endpoint)
        {
            applied.Peer.SetEndpoint(endpoint);
            applied.ChosenEndpoint = endpoint;
        }

        ClaimAllowedIps(applied, planned.AllowedIps);
        StartKeepalives(applied);
        return applied;
    }

    /// <summary>The status snapshot (by id) without <paramref name="removed"/> and with <paramref name="added"/>, merged rather than sorted again.</summary>
    private static AppliedPeer[] MergeSnapshot(AppliedPeer[] snapshot, List<AppliedPeer> added, HashSet<AppliedPeer> removed)
    {
        added.Sort((a, b) => a.Id.CompareTo(b.Id));
        var merged = new List<AppliedPeer>(snapshot.Length + added.Count);
        var next = 0;
        foreach (var peer in snapshot)
        {
            if (removed.Contains(peer))
            {
                continue;
            }

            while (next < added.Count && added[next].Id < peer.Id)
            {
                merged.Add(added[next++]);
            }

            merged.Add(peer);
        }

        merged.AddRange(added.Skip(next));
        return [.. merged];
    }

    private void ReleaseAllowedIps(AppliedPeer applied, IReadOnlyList<IPNetwork> prefixes)
    {
        foreach (var prefix in prefixes)
        {
            _device.AllowedIps.Remove(prefix, applied.Peer);
            _allowedIps.Remove(prefix);
        }
    }

    private void ClaimAllowedIps(AppliedPeer applied, IReadOnlyList<IPNetwork> prefixes)
    {
        foreach (var prefix in prefixes)
        {
            if (_allowedIps.TryAdd(prefix, applied))
            {
                _device.AllowedIps.Insert(prefix, applied.Peer);
            }
        }
    }

    /// <summary>Everything but the peers and the filter is the very object applied last (a delta that changed none of it keeps it).</summary>
    private static bool SameAsLast(NetMap map, NetMap last) =>
        ReferenceEquals(map.Self, last.Self) && ReferenceEquals(map.OverlayPrefixes, last.OverlayPrefixes)
        && ReferenceEquals(map.RelayMap, last.RelayMap) && ReferenceEquals(map.Dns, last.Dns);

    // An exit node is chosen by name among the peers, so with one set any peer change may move it.
    private static bool SameSettings(EngineSettings settings, EngineSettings last) =>
        settings.ExitNode is null && last.ExitNode is null
        && settings with { AdvertisedRoutes = last.AdvertisedRoutes } == last
        && settings.AdvertisedRoutes.SequenceEqual(last.AdvertisedRoutes);

    /// <summary>Whether every peer of a map applied in full was planned alone (see <see cref="EnginePlanner.PlanAlone"/>), so changes may follow it.</summary>
    private static bool PeersStandAlone(NetMap map, EnginePlan plan) =>
        plan.Problems.Count == 0 && !map.Peers.Values.Any(p => p.Gateway is not null);

    /// <summary>A delta's peers sorted by what applying them takes.</summary>
    private sealed class PlannedChanges(bool preferIPv6)
    {
        public bool PreferIPv6 { get; } = preferIPv6;

        /// <summary>Peers kept whose map entry changed: discovery and relays take the new one.</summary>
        public List<(PeerInfo Info, AppliedPeer Applied)> Moved { get; } = [];

        /// <summary>Moved peers whose addresses changed too, with their entry in the map applied last.</summary>
        public List<(PeerInfo Before, PlannedPeer Planned, AppliedPeer Applied)> Readdressed { get; } = [];

        public List<(PeerInfo Info, PlannedPeer Planned)> Added { get; } = [];

        public List<(PeerInfo Info, AppliedPeer Applied)> Removed { get; } = [];
    }
}
