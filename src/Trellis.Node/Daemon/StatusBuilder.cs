using Trellis.Core.Control;
using Trellis.Node.Engine;
using Trellis.Node.LocalApi;

namespace Trellis.Node.Daemon;

/// <summary>Joins the map's peers with the engine's view of them (by id) into the local API's status.</summary>
internal static class StatusBuilder
{
    public static StatusResponse Build(string state, string? server, string? error, string? approveHint, PeerInfo? self, bool online, NetMap? map, EngineStatus? engine)
    {
        var paths = new Dictionary<long, PeerStatus>();
        foreach (var peer in engine?.Peers ?? [])
        {
            paths[peer.Id] = peer;
        }

        var names = new Dictionary<string, string>();
        foreach (var peer in map?.Peers.Values ?? [])
        {
            names[peer.NodeKey] = peer.Name;
        }

        var peers = new List<StatusPeer>();
        foreach (var peer in map?.Peers.Values ?? [])
        {
            paths.TryGetValue(peer.Id, out var path);

            // A plain peer of another gateway has no tunnel of its own here: its gateway is its path.
            long? gatewayId = peer.Gateway is { } served && served != self?.Id ? served : null;
            var gateway = gatewayId is { } id ? map!.Peers.GetValueOrDefault(id) : null;
            peers.Add(new StatusPeer
            {
                Id = peer.Id,
                Hostname = peer.Name,
                Addresses = peer.Addresses,
                AllowedIps = peer.AllowedIps,
                Online = peer.Online,
                Path = path?.Path ?? "none",
                Endpoint = path?.Endpoint,
                Relay = path?.Relay,
                PeerRelay = path?.PeerRelayKey is { } relayKey ? names.GetValueOrDefault(relayKey, relayKey) : null,
                LastHandshake = path?.LastHandshake,
                RxBytes = path?.RxBytes ?? 0,
                TxBytes = path?.TxBytes ?? 0,
                DroppedByPolicy = path?.DroppedByPolicy ?? 0,
                NodeKey = peer.NodeKey,
                Gateway = gatewayId is { } named ? gateway?.Name ?? named.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
                GatewayOnline = gatewayId is null ? null : gateway?.Online == true,
                Version = peer.Version,
            });
        }

        peers.Sort((a, b) => string.CompareOrdinal(a.Hostname, b.Hostname));
        return new StatusResponse
        {
            State = state,
            Server = server,
            Error = error,
            ApproveHint = approveHint,
            Self = self is null ? null : new StatusSelf
            {
                Id = self.Id,
                Hostname = self.Name,
                Addresses = self.Addresses,
                Online = online,
                NodeKey = self.NodeKey,
                User = self.User,
                Tags = self.Tags,
                KeyExpiry = self.KeyExpiry,
                HomeRelay = engine?.HomeRelay,
                RelayRegions = engine?.RelayRegions ?? [],
                ExitNode = DescribeExit(engine?.ExitNode, map),
            },
            Peers = peers,
            Replicas = map is null ? [] : [.. map.Replicas.Select(url => url.AbsoluteUri)],
            DroppedByPolicy = engine?.DroppedByPolicy ?? 0,
        };
    }

    private static StatusExitNode? DescribeExit(ExitNodePlan? plan, NetMap? map)
    {
        if (plan is null)
        {
            return null;
        }

        var peer = plan.PeerId is { } id ? map?.Peers.GetValueOrDefault(id) : null;
        return new StatusExitNode
        {
            Given = plan.Given,
            Hostname = peer?.Name ?? plan.PeerName,
            Online = peer?.Online == true,
            AllowLanAccess = plan.AllowLanAccess,
            Problem = plan.Problem ?? (peer is { Online: false } ? $"{peer.Name} is offline: internet traffic is dropped until it is back" : null),
        };
    }
}
