using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Trellis.Core.Control;
using Trellis.Core.Keys;
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
    /// <summary>Re-STUN about this often (jittered), to notice a NAT mapping that changed.</summary>
    public static readonly TimeSpan StunInterval = TimeSpan.FromSeconds(20);

    private readonly DiscoveryBind? _discovery;
    private readonly SwitchableRelayTransport? _relay;
    private readonly Key _privateKey;
    private readonly StunClient? _stun;
    private readonly CancellationTokenSource _stop = new();

    // guarded by _gate
    private RelayNode? _homeRelay;
    private RelayClient? _relayClient;
    private RelayClientTransport? _relayTransport;
    private RelayMap _relayMap = new();
    private Task? _stunLoop;

    // touched only by the STUN loop
    private PortMapping? _portMapping;
    private DateTimeOffset _portMappingDue;

    // written by the STUN loop, read by anyone
    private volatile IReadOnlyList<string> _publicEndpoints = [];
    private volatile bool _publiclyReachable;

    /// <summary>Raised when STUN finds this node's public endpoints changed (push them to the control server).</summary>
    public event Action? PublicEndpointsChanged;

    /// <inheritdoc/>
    public IReadOnlyList<string> PublicEndpoints => _publicEndpoints;

    /// <inheritdoc/>
    public bool PubliclyReachable => _publiclyReachable;

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
        foreach (var info in map.Peers.Values)
        {
            if (Key.TryParseBase64(info.NodeKey, out var nodeKey) && Key.TryParseBase64(info.DiscoKey, out var discoKey))
            {
                peers.Add(new DiscoPeer(nodeKey, discoKey, ParseEndpoints(info.Endpoints), info.HomeRelay, info.PeerRelay));
            }
        }

        _discovery.SetLocalEndpoints(ParseEndpoints(map.Self.Endpoints));
        _discovery.SetRelayMap(map.RelayMap);
        _discovery.SetPeers(peers);
        _relayMap = map.RelayMap;
        SwitchHomeRelay(map.RelayMap);
        _stunLoop ??= map.RelayMap.Regions.Count > 0 ? Task.Run(StunLoopAsync) : null;
    }

    /// <summary>The endpoint WireGuard is given for a peer: its synthetic one when discovery is on.</summary>
    private Endpoint? EndpointFor(Key nodeKey, Endpoint? planned) =>
        _discovery is null ? planned : _discovery.SyntheticEndpointOf(nodeKey) ?? planned;

    /// <summary>The home relay: the first node of the lowest region id (netcheck's preferred region comes later).</summary>
    private void SwitchHomeRelay(RelayMap map)
    {
        var home = map.Regions.OrderBy(r => r.Id).FirstOrDefault(r => r.Nodes.Count > 0);
        var node = home?.Nodes[0];
        if (node == _homeRelay)
        {
            return;
        }

        _homeRelay = node;
        var oldClient = _relayClient;
        var oldTransport = _relayTransport;
        _relayClient = null;
        _relayTransport = null;
        if (node is not null)
        {
            _relayClient = new RelayClient(new RelayClientOptions { Url = RelayUrlFor(node), PrivateKey = _privateKey }, _time, _logger);
            _relayTransport = new RelayClientTransport(_relayClient, home!.Id);
            _relayClient.Start();
            LogHomeRelay(_logger, home.Code, node.RelayUri().ToString());
        }

        _relay!.Switch(_relayTransport);
        _ = CloseRelayAsync(oldClient, oldTransport);
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

    private static async Task CloseRelayAsync(RelayClient? client, RelayClientTransport? transport)
    {
        if (transport is not null)
        {
            await transport.DisposeAsync().ConfigureAwait(false);
        }

        if (client is not null)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task StunLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var found = new List<string>();
            var answersV4 = new List<(Endpoint Server, Endpoint Mapped)>();
            var reachable = false;

            // Beside STUN, not before it: a gateway that never answers holds the mapping probes for a minute.
            var mappingTask = RefreshPortMappingAsync();

            foreach (var target in StunTargets(_relayMap))
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                    timeout.CancelAfter(TimeSpan.FromSeconds(3));
                    var answer = await _stun!.QueryAsync(target, new StunQueryOptions { Timeout = TimeSpan.FromSeconds(3) }, timeout.Token).ConfigureAwait(false);
                    if (answer.MappedEndpoint is { } mapped && !found.Contains(mapped.ToString()))
                    {
                        found.Add(mapped.ToString());
                    }

                    // Seen from outside as our own address and port: no NAT, anyone may send to us.
                    reachable |= answer.MappedEndpoint is { } seen && seen.Port == ListenPort && IsLocalAddress(seen.ToIPAddress());

                    if (answer.MappedEndpoint is { IsIPv4: true } mappedV4 && target.IsIPv4)
                    {
                        answersV4.Add((target, mappedV4));
                    }
                }
                catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
                {
                    // this server did not answer; the others may
                }
            }

            // Which half of port guessing this node may do; an empty round (no answer) keeps the last verdict.
            if (answersV4.Count > 0 && NatMappingClassifier.Classify(answersV4, ListenPort) is var natMapping && natMapping != _discovery!.NatMapping)
            {
                _discovery.SetNatMapping(natMapping);
                LogNatMapping(_logger, natMapping.ToString());
            }

            // STUN's answers go out at once (a mapping already known with them); a port mapping, once the
            // gateway answers, goes first: it is endpoint-independent even behind a NAT that maps per destination.
            var mappingKnown = mappingTask.IsCompleted;
            if (mappingKnown)
            {
                reachable |= WithPortMapping(found, await mappingTask.ConfigureAwait(false));
            }

            PublishPublicEndpoints(found, reachable);
            if (!mappingKnown && WithPortMapping(found, await mappingTask.ConfigureAwait(false)))
            {
                PublishPublicEndpoints(found, reachable: true);
            }

            var jitter = TimeSpan.FromMilliseconds(Random.Shared.Next(0, 6000));
            try
            {
                await Task.Delay(StunInterval + jitter, _time, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Puts the port mapping's external endpoint first in <paramref name="found"/>; false when there is none.</summary>
    private static bool WithPortMapping(List<string> found, PortMapping? mapping)
    {
        if (mapping is null)
        {
            return false;
        }

        var external = Endpoint.FromIPEndPoint(mapping.External).ToString();
        found.Remove(external);
        found.Insert(0, external);
        return true;
    }

    /// <summary>Raises <see cref="PublicEndpointsChanged"/> when the endpoints or their reachability changed (the STUN loop only).</summary>
    private void PublishPublicEndpoints(List<string> found, bool reachable)
    {
        if (found.SequenceEqual(_publicEndpoints) && reachable == _publiclyReachable)
        {
            return;
        }

        _publicEndpoints = [.. found];
        _publiclyReachable = reachable;
        LogPublicEndpoints(_logger, string.Join(", ", found), reachable);
        PublicEndpointsChanged?.Invoke();
    }

    /// <summary>
    /// Asks the default gateway (NAT-PMP/PCP) to forward the WireGuard port, renews at half the
    /// lifetime, and after a failure waits <see cref="PortMappingRetry"/> before asking again.
    /// </summary>
    private async Task<PortMapping?> RefreshPortMappingAsync()
    {
        var now = _time.GetUtcNow();
        if (now < _portMappingDue)
        {
            return _portMapping;
        }

        var gateway = DefaultGateway.Read();
        if (gateway is null)
        {
            _portMapping = null;
            _portMappingDue = now + PortMappingRetry;
            return null;
        }

        var mapper = new PortMapper(gateway, _time);
        var mapping = _portMapping is { } current && current.Gateway.Equals(gateway)
            ? await mapper.RenewAsync(current, cancellationToken: _stop.Token).ConfigureAwait(false)
            : await mapper.MapUdpAsync(ListenPort, PortMapper.DefaultLifetime, _stop.Token).ConfigureAwait(false);
        if (mapping is null)
        {
            _portMapping = null;
            _portMappingDue = now + PortMappingRetry;
            return null;
        }

        if (_portMapping?.External.Equals(mapping.External) != true)
        {
            LogPortMapping(_logger, mapping.Protocol.ToString(), mapping.External.ToString(), gateway.ToString());
        }

        _portMapping = mapping;
        _portMappingDue = now + PortMapper.RenewalDue(mapping);
        return mapping;
    }

    /// <summary>After a gateway offered no mapping, ask again this much later (gateways rarely change their mind sooner).</summary>
    public static readonly TimeSpan PortMappingRetry = TimeSpan.FromMinutes(5);

    /// <summary>One STUN server per region and family, by the addresses the map gives (host names resolved).</summary>
    private static IEnumerable<Endpoint> StunTargets(RelayMap map)
    {
        foreach (var region in map.Regions)
        {
            var node = region.Nodes.FirstOrDefault(n => n.StunPort > 0);
            if (node is null)
            {
                continue;
            }

            var addresses = new List<IPAddress>();
            foreach (var text in new[] { node.IPv4, node.IPv6, node.Host })
            {
                if (text is not null && IPAddress.TryParse(text.Trim('[', ']'), out var address) && !addresses.Contains(address))
                {
                    addresses.Add(address);
                }
            }

            if (addresses.Count == 0)
            {
                try
                {
                    addresses.AddRange(Dns.GetHostAddresses(node.Host).Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6));
                }
                catch (SocketException)
                {
                    continue; // unresolvable now; the next round tries again
                }
            }

            foreach (var family in new[] { AddressFamily.InterNetworkV6, AddressFamily.InterNetwork })
            {
                if (addresses.FirstOrDefault(a => a.AddressFamily == family) is { } address)
                {
                    yield return Endpoint.FromIPEndPoint(new IPEndPoint(address, node.StunPort));
                }
            }
        }
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

        _relay?.Switch(null);
        await CloseRelayAsync(_relayClient, _relayTransport).ConfigureAwait(false);
        if (_stun is not null)
        {
            await _stun.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "home relay {Region} at {Url}")]
    private static partial void LogHomeRelay(ILogger logger, string region, string url);

    [LoggerMessage(Level = LogLevel.Information, Message = "port mapping ({Protocol}) {External} from gateway {Gateway}")]
    private static partial void LogPortMapping(ILogger logger, string protocol, string external, string gateway);

    [LoggerMessage(Level = LogLevel.Information, Message = "public endpoints by STUN: {Endpoints} (reachable unasked: {Reachable})")]
    private static partial void LogPublicEndpoints(ILogger logger, string endpoints, bool reachable);

    [LoggerMessage(Level = LogLevel.Information, Message = "NAT mapping by STUN: {Mapping}")]
    private static partial void LogNatMapping(ILogger logger, string mapping);
}
