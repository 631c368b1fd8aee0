using System.Net.Sockets;
using Trellis.Core.Control;
using Trellis.Core.Transport;
using Trellis.Net.Stun;

namespace Trellis.Net.Netcheck;

/// <summary>
/// Measures this host's connectivity against a relay map: which families reach the STUN servers,
/// the public address each family is seen at, whether the NAT maps by destination, each region's
/// latency, and whether the gateway offers port mapping. All STUN probes of a family go out of one
/// socket, so different answers can only mean the NAT gave different destinations different
/// mappings. Bounded by <see cref="NetcheckOptions.Timeout"/> however many servers are unreachable.
/// </summary>
public sealed class Netchecker
{
    private readonly NetcheckOptions _options;

    public Netchecker(NetcheckOptions? options = null)
    {
        _options = options ?? NetcheckOptions.Default;
        if (_options.Timeout <= TimeSpan.Zero || _options.InitialRto <= TimeSpan.Zero || _options.LatencyProbes < 1 || _options.PortMappingTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("netcheck needs positive timeouts and at least one probe per server", nameof(options));
        }
    }

    public async Task<NetcheckReport> RunAsync(RelayMap map, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(map);
        var time = _options.TimeProvider;
        var started = time.GetTimestamp();

        var gateway = _options.ProbePortMapping ? _options.Gateway ?? DefaultGateway.Read() : null;
        var portMapping = _options.ProbePortMapping
            ? PortMappingProbe.ProbeAsync(gateway, _options.NatPmpPort, _options.SsdpEndpoint, _options.PortMappingTimeout, time, cancellationToken)
            : Task.FromResult(PortMappingServices.None);

        var targets = await StunTarget.ResolveAsync(map, _options.Timeout, time, cancellationToken).ConfigureAwait(false);
        await using var v4 = TryOpen(AddressFamily.InterNetwork, time);
        await using var v6 = TryOpen(AddressFamily.InterNetworkV6, time);
        var probes = targets.Select(t => ProbeAsync(t.Endpoint.IsIPv4 ? v4 : v6, t, started, cancellationToken)).ToList();
        var results = await Task.WhenAll(probes).ConfigureAwait(false);
        var services = await portMapping.ConfigureAwait(false);

        var answers = targets.Zip(results, (target, answered) => (Target: target, Answers: answered)).ToList();
        var ipv4 = answers.Where(a => a.Target.Endpoint.IsIPv4).SelectMany(a => a.Answers).ToList();
        var ipv6 = answers.Where(a => !a.Target.Endpoint.IsIPv4).SelectMany(a => a.Answers).ToList();
        var regions = map.Regions.Select(region => Latency(region, answers.Where(a => ReferenceEquals(a.Target.Region, region)).ToList())).ToList();
        var preferred = regions.Where(r => r.LatencyMs is not null).OrderBy(r => r.LatencyMs).FirstOrDefault();

        return new NetcheckReport
        {
            UdpV4 = ipv4.Count > 0,
            UdpV6 = ipv6.Count > 0,
            GlobalV4 = ipv4.FirstOrDefault()?.MappedEndpoint?.ToString(),
            GlobalV6 = ipv6.FirstOrDefault()?.MappedEndpoint?.ToString(),
            MappingVariesByDestination = MappingVaries(ipv4),
            MappingVariesByDestinationV6 = MappingVaries(ipv6),
            Gateway = gateway?.ToString(),
            NatPmp = services.NatPmp,
            Pcp = services.Pcp,
            Upnp = services.Upnp,
            PreferredRegion = preferred?.RegionId,
            Regions = regions,
        };
    }

    /// <summary>Up to <see cref="NetcheckOptions.LatencyProbes"/> queries, one after another; stops at the first unanswered one.</summary>
    private async Task<IReadOnlyList<StunQueryResult>> ProbeAsync(StunClient? client, StunTarget target, long started, CancellationToken cancellationToken)
    {
        var answered = new List<StunQueryResult>();
        if (client is null)
        {
            return answered;
        }

        for (var i = 0; i < _options.LatencyProbes; i++)
        {
            var remaining = _options.Timeout - _options.TimeProvider.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            var query = new StunQueryOptions { InitialRto = _options.InitialRto, Timeout = remaining };
            var result = await client.QueryAsync(target.Endpoint, query, cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                break;
            }

            answered.Add(result);
        }

        return answered;
    }

    /// <summary>Null below two distinct servers; otherwise whether they did not all see the same address and port.</summary>
    private static bool? MappingVaries(IReadOnlyList<StunQueryResult> answers)
    {
        if (answers.Select(a => a.Server).Distinct().Count() < 2)
        {
            return null;
        }

        return answers.Select(a => a.MappedEndpoint).Distinct().Count() > 1;
    }

    private static RegionLatency Latency(RelayRegion region, IReadOnlyList<(StunTarget Target, IReadOnlyList<StunQueryResult> Answers)> probes)
    {
        double? Best(Func<Endpoint, bool> family)
        {
            var times = probes.Where(p => family(p.Target.Endpoint))
                .SelectMany(p => p.Answers)
                .Select(a => a.RoundTripTime!.Value.TotalMilliseconds)
                .ToList();
            return times.Count == 0 ? null : Math.Round(times.Min(), 3);
        }

        var v4 = Best(e => e.IsIPv4);
        var v6 = Best(e => !e.IsIPv4);
        return new RegionLatency
        {
            RegionId = region.Id,
            Code = region.Code,
            LatencyMs = (v4, v6) switch
            {
                (null, null) => null,
                ({ } a, { } b) => Math.Min(a, b),
                _ => v4 ?? v6,
            },
            LatencyV4Ms = v4,
            LatencyV6Ms = v6,
        };
    }

    /// <summary>A client on a fresh socket of that family, or null when the host has no such family.</summary>
    private static StunClient? TryOpen(AddressFamily family, TimeProvider time)
    {
        try
        {
            return StunClient.Open(family, time);
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
