using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Core.Tls;
using Trellis.Core.Transport;
using Trellis.Discovery;
using Trellis.Net.Netcheck;
using Trellis.Net.PortMapping;
using Trellis.Net.Stun;
using Trellis.Relay.Client;

namespace Trellis.Node.Engine;

/// <summary>
/// Paths to peers when discovery is on: every peer sits at one synthetic endpoint of the
/// <see cref="DiscoveryBind"/>, which sends over a proven direct path or the home relay. The engine
/// connects to the home relay of the map and learns its own public endpoints with STUN through the
/// WireGuard socket itself, so what it reports is the mapping peers will really meet.
/// </summary>
public sealed partial class WireGuardEngine
{
    private readonly DiscoveryBind? _discovery;
    private readonly RegionalRelays? _relay;
    private readonly Key _privateKey;
    private readonly PrivateCa? _privateCa;
    private readonly StunClient? _stun;
    private readonly CancellationTokenSource _stop = new();

    // written under _gate, read by anyone (the relays dial from it on a send)
    private volatile RelayMap _relayMap = new();

    // guarded by _gate
    private Task? _stunLoop;

    /// <inheritdoc/>
    public async Task<EnginePing?> PingAsync(string nodeKey, CancellationToken cancellationToken)
    {
        if (_discovery is null || !Key.TryParseBase64(nodeKey, out var key))
        {
            return null;
        }

        var answer = await _discovery.PingAsync(key, cancellationToken).ConfigureAwait(false);
        return answer is null
            ? null
            : new EnginePing(
                answer.Path,
                answer.Path is PathKind.Direct or PathKind.PeerRelay ? answer.Endpoint?.ToString() : null,
                answer.Path == PathKind.Relay ? _relayMap.Regions.FirstOrDefault(r => r.Id == answer.RelayRegion)?.Code ?? answer.RelayRegion.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
                answer.RoundTrip);
    }

    /// <summary>
    /// The peers as discovery needs them, then each peer's synthetic endpoint for WireGuard. The
    /// routes about to go into the TUN go first: an endpoint inside one (a peer's overlay address, a
    /// LAN address behind an accepted subnet route) is reached through the tunnel itself and must
    /// never become a path. Called with _gate held.
    /// </summary>
    private void ApplyDiscovery(NetMap map, IReadOnlyList<IPNetwork> tunnelRoutes, EngineSettings settings)
    {
        if (_discovery is null)
        {
            return;
        }

        _discovery.SetTunnelRoutes(new TunnelRoutes(tunnelRoutes));
        _discovery.PortGuessing = settings.PortGuessing;
        _discovery.ServesPeerRelay = settings.PeerRelay;
        _discovery.SetPeerRelayClients(settings.PeerRelay ? PeerRelayClients.From(map) : null);

        var peers = new List<DiscoPeer>(map.Peers.Count);
        var peerRegions = new Dictionary<Key, int>(map.Peers.Count);
        foreach (var info in map.Peers.Values)
        {
            if (Key.TryParseBase64(info.NodeKey, out var nodeKey) && Key.TryParseBase64(info.DiscoKey, out var discoKey))
            {
                peers.Add(new DiscoPeer(nodeKey, discoKey, ParseEndpoints(info.Endpoints), info.HomeRelay, info.PeerRelay, info.MappingVaries));
                peerRegions[nodeKey] = info.HomeRelay;
            }
        }

        _discovery.SetLocalEndpoints(ParseEndpoints(map.Self.Endpoints));
        _discovery.SetRelayMap(map.RelayMap);
        _discovery.SetPeers(peers);
        var before = _relayMap;
        _relayMap = map.RelayMap;
        _relay!.SetPeerRegions(peerRegions);
        _relay.SetRegions([.. map.RelayMap.Regions.Where(r => r.Nodes.Count > 0).Select(r => r.Id)]);
        foreach (var region in map.RelayMap.Regions)
        {
            // Connections go to a region's first node: when the map moves it, so does the connection.
            if (before.Regions.FirstOrDefault(r => r.Id == region.Id) is { Nodes: [var was, ..] } && region.Nodes is [var now, ..] && was != now)
            {
                _relay.Redial(region.Id);
            }
        }
        _stunLoop ??= map.RelayMap.Regions.Count > 0 ? Task.Run(StunLoopAsync) : null;
    }

    /// <summary>The endpoint WireGuard is given for a peer: its synthetic one when discovery is on.</summary>
    private Endpoint? EndpointFor(Key nodeKey, Endpoint? planned) =>
        _discovery is null ? planned : _discovery.SyntheticEndpointOf(nodeKey) ?? planned;

    /// <summary>The home relay region (0 before a map with relays), as reported to the control server.</summary>
    public int HomeRegion => _relay?.RegionId ?? 0;

    /// <summary>Raised when the home relay region changed (report it to the control server).</summary>
    public event Action? HomeRegionChanged;

    /// <summary>A started connection to the first relay node of a region of the current map; null when it has none.</summary>
    private RelayClientTransport? ConnectRegion(int regionId)
    {
        var region = _relayMap.Regions.FirstOrDefault(r => r.Id == regionId);
        if (region is not { Nodes: [var node, ..] })
        {
            return null;
        }

        var client = new RelayClient(new RelayClientOptions { Url = RelayUrlFor(node), PrivateKey = _privateKey, PrivateCa = _privateCa }, _time, _logger);
        client.Start();
        LogRelayConnecting(_logger, region.Code, node.RelayUri().ToString());
        return new RelayClientTransport(client, region.Id);
    }

    /// <summary>
    /// The relay's URL, by the address family this host can use: a relay named by an IPv4 literal
    /// (or a name) is dialled at its IPv6 address from an IPv6-only host, and the reverse.
    /// </summary>
    internal static Uri RelayUrlFor(RelayNode node, bool? hasIPv4 = null, bool? hasIPv6 = null)
    {
        var uri = node.RelayUri();
        var v4 = hasIPv4 ?? HasGlobalAddress(AddressFamily.InterNetwork);
        var v6 = hasIPv6 ?? HasGlobalAddress(AddressFamily.InterNetworkV6);
        var hostFamily = IPAddress.TryParse(node.Host.Trim('[', ']'), out var literal) ? literal.AddressFamily : (AddressFamily?)null;
        if (!v4 && v6 && hostFamily != AddressFamily.InterNetworkV6 && node.IPv6 is { } ipv6)
        {
            return new UriBuilder(uri) { Host = ipv6 }.Uri;
        }

        if (!v6 && v4 && hostFamily != AddressFamily.InterNetwork && node.IPv4 is { } ipv4)
        {
            return new UriBuilder(uri) { Host = ipv4 }.Uri;
        }

        return uri;
    }

    private static bool IsLocalAddress(IPAddress address) =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Any(a => a.Address.Equals(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address));

    private static bool HasGlobalAddress(AddressFamily family) =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Any(a => a.Address.AddressFamily == family && !IPAddress.IsLoopback(a.Address) && !a.Address.IsIPv6LinkLocal && !IsOverlay(a.Address));

    /// <summary>The overlay's own kinds of address (100.64.0.0/10, ULAs), which say nothing about the underlay.</summary>
    private static bool IsOverlay(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return address.AddressFamily == AddressFamily.InterNetwork ? bytes[0] == 100 && (bytes[1] & 0xC0) == 64 : (bytes[0] & 0xFE) == 0xFC;
    }

    private static List<Endpoint> ParseEndpoints(IReadOnlyList<string> texts)
    {
        var endpoints = new List<Endpoint>(texts.Count);
        foreach (var text in texts)
        {
            if (Endpoint.TryParse(text, out var endpoint))
            {
                endpoints.Add(endpoint);
            }
        }

        return endpoints;
    }

    private async Task StopDiscoveryAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_stunLoop is not null)
        {
            await _stunLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_portMapping is { } mapping)
        {
            // Best effort: a mapping left behind expires by itself.
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await ((Task)new PortMapper(mapping.Gateway, _time).DeleteAsync(mapping, quick.Token)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_relay is not null)
        {
            await _relay.DisposeAsync().ConfigureAwait(false);
        }
        if (_stun is not null)
        {
            await _stun.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "relay region {Region}: connecting to {Url}")]
    private static partial void LogRelayConnecting(ILogger logger, string region, string url);
}
