using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Trellis.Core.Control;
using Trellis.Core.Transport;
using Trellis.Discovery;
using Trellis.Net.Netcheck;
using Trellis.Net.PortMapping;
using Trellis.Net.Stun;

namespace Trellis.Node.Engine;

/// <summary>
/// The node's own public endpoints: a port mapping from the gateway (listed first) and what STUN
/// servers see of the WireGuard socket. A round asks the gateway and every STUN server at once:
/// a gateway that does not answer costs its protocols' timeouts (seconds), and a peer behind a NAT
/// cannot reach this node until it learns the STUN answer, so nothing waits for anything else.
/// </summary>
public sealed partial class WireGuardEngine
{
    /// <summary>Re-STUN about this often (jittered), to notice a NAT mapping that changed.</summary>
    public static readonly TimeSpan StunInterval = TimeSpan.FromSeconds(20);

    /// <summary>How long one STUN server may take to answer before its region counts as unanswered this round.</summary>
    private static readonly TimeSpan StunTimeout = TimeSpan.FromSeconds(3);

    /// <summary>After a gateway offered no mapping, ask again this much later (gateways rarely change their mind sooner).</summary>
    public static readonly TimeSpan PortMappingRetry = TimeSpan.FromMinutes(5);

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

    public bool MappingVaries => _discovery?.NatMapping == NatMapping.Varies;

    private async Task StunLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await StunRoundAsync().ConfigureAwait(false);
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

    /// <summary>
    /// One round. While this node has no public endpoint yet, each answer is published as it comes;
    /// after that only the whole round's list replaces the last, so a slow server never makes the
    /// list shrink and grow again every round.
    /// </summary>
    private async Task StunRoundAsync()
    {
        var mappingTask = RefreshPortMappingAsync();
        var targets = StunTargets(_relayMap).ToList();
        var answers = new StunQueryResult?[targets.Count];
        var queries = new Dictionary<Task<StunQueryResult?>, int>(targets.Count);
        for (var i = 0; i < targets.Count; i++)
        {
            queries[QueryStunAsync(targets[i].Server)] = i;
        }

        var pending = new List<Task>(queries.Keys) { mappingTask };
        var first = _publicEndpoints.Count == 0;
        var ipv4Left = targets.Count(t => t.Server.IsIPv4);
        while (pending.Count > 1)
        {
            var done = await Task.WhenAny(pending).ConfigureAwait(false);
            pending.Remove(done);
            var classify = false;
            if (done is Task<StunQueryResult?> query && queries.TryGetValue(query, out var index))
            {
                answers[index] = await query.ConfigureAwait(false);

                // The verdict needs only the IPv4 servers: an IPv4-only node would otherwise wait out
                // the IPv6 server's timeout before a hard-NAT peer may start guessing.
                classify = targets[index].Server.IsIPv4 && --ipv4Left == 0;
            }

            if (first)
            {
                PublishEndpoints(mappingTask.IsCompletedSuccessfully ? mappingTask.Result : null, answers, partial: true);
            }

            // After the endpoints: the verdict's report then names the public address a peer guesses toward.
            if (classify)
            {
                ClassifyNatMapping(targets, answers);
            }
        }

        foreach (var (query, index) in queries)
        {
            answers[index] = await query.ConfigureAwait(false);
        }

        PublishEndpoints(await mappingTask.ConfigureAwait(false), answers, partial: false);

        // Each region's best round trip this round (null: no answer), for the choice of home.
        var latencies = new Dictionary<int, double?>();
        for (var i = 0; i < targets.Count; i++)
        {
            latencies.TryAdd(targets[i].Region, null);
            if (answers[i] is { Succeeded: true, RoundTripTime: { } rtt } && (latencies[targets[i].Region] is not { } best || rtt.TotalMilliseconds < best))
            {
                latencies[targets[i].Region] = rtt.TotalMilliseconds;
            }
        }

        _relay!.ReportLatencies(latencies);
    }

    /// <summary>Which half of port guessing this node may do, from the round's IPv4 answers; an empty round (no answer) keeps the last verdict.</summary>
    private void ClassifyNatMapping(List<(int Region, Endpoint Server)> targets, StunQueryResult?[] answers)
    {
        var answersV4 = new List<(Endpoint Server, Endpoint Mapped)>();
        for (var i = 0; i < targets.Count; i++)
        {
            if (targets[i].Server.IsIPv4 && answers[i]?.MappedEndpoint is { IsIPv4: true } mappedV4)
            {
                answersV4.Add((targets[i].Server, mappedV4));
            }
        }

        if (answersV4.Count > 0 && NatMappingClassifier.Classify(answersV4, ListenPort) is var natMapping && natMapping != _discovery!.NatMapping)
        {
            _discovery.SetNatMapping(natMapping);
            LogNatMapping(_logger, natMapping.ToString());
            PublicEndpointsChanged?.Invoke(); // peers behind easy NATs start guessing at once when they learn it
        }
    }

    /// <summary>
    /// The mapping first (endpoint-independent even behind a NAT that maps per destination), then
    /// STUN's answers in the servers' order. A partial list (mid-round) is published only when it
    /// names something; the round's whole list always replaces the last, empty or not.
    /// </summary>
    private void PublishEndpoints(PortMapping? mapping, StunQueryResult?[] answers, bool partial)
    {
        var found = new List<string>();

        // Reachable unasked (what a peer relay needs): a port mapping, or a server that saw our own address and port (no NAT).
        var reachable = mapping is not null;
        if (mapping is not null)
        {
            found.Add(Endpoint.FromIPEndPoint(mapping.External).ToString());
        }

        foreach (var answer in answers)
        {
            if (answer?.MappedEndpoint is { } mapped)
            {
                reachable |= mapped.Port == ListenPort && IsLocalAddress(mapped.ToIPAddress());
                if (!found.Contains(mapped.ToString()))
                {
                    found.Add(mapped.ToString());
                }
            }
        }

        if ((partial && found.Count == 0) || (found.SequenceEqual(_publicEndpoints) && reachable == _publiclyReachable))
        {
            return;
        }

        _publicEndpoints = found;
        _publiclyReachable = reachable;
        LogPublicEndpoints(_logger, string.Join(", ", found), reachable);
        PublicEndpointsChanged?.Invoke();
    }

    /// <summary>What one STUN server sees of the WireGuard socket; null when it did not answer in time.</summary>
    private async Task<StunQueryResult?> QueryStunAsync(Endpoint target)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(StunTimeout);
            var answer = await _stun!.QueryAsync(target, new StunQueryOptions { Timeout = StunTimeout }, timeout.Token).ConfigureAwait(false);
            return answer;
        }
        catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
        {
            return null; // this server did not answer; the others may
        }
    }
    /// <summary>
    /// Asks the default gateway (PCP, NAT-PMP, UPnP-IGD) to forward the WireGuard port, renews at half
    /// the lifetime, and after a failure waits <see cref="PortMappingRetry"/> before asking again.
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
            return null;
        }

        var mapper = new PortMapper(gateway, _time);
        var mapping = _portMapping is { } current && current.Gateway.Equals(gateway)
            ? await mapper.RenewAsync(current, cancellationToken: _stop.Token).ConfigureAwait(false)
            : await mapper.MapUdpAsync(ListenPort, PortMapper.DefaultLifetime, _stop.Token).ConfigureAwait(false);
        if (mapping is null)
        {
            _portMapping = null;
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


    /// <summary>One STUN server per region and family, by the addresses the map gives (host names resolved).</summary>
    private static IEnumerable<(int Region, Endpoint Server)> StunTargets(RelayMap map)
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
                    addresses.AddRange(System.Net.Dns.GetHostAddresses(node.Host).Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6));
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
                    yield return (region.Id, Endpoint.FromIPEndPoint(new IPEndPoint(address, node.StunPort)));
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "port mapping ({Protocol}) {External} from gateway {Gateway}")]
    private static partial void LogPortMapping(ILogger logger, string protocol, string external, string gateway);

    [LoggerMessage(Level = LogLevel.Information, Message = "public endpoints by STUN: {Endpoints} (reachable unasked: {Reachable})")]
    private static partial void LogPublicEndpoints(ILogger logger, string endpoints, bool reachable);

    [LoggerMessage(Level = LogLevel.Information, Message = "NAT mapping by STUN: {Mapping}")]
    private static partial void LogNatMapping(ILogger logger, string mapping);
}
