using System.Net;

namespace Trellis.Net.Netcheck;

/// <summary>How long and how hard a <see cref="Netchecker"/> probes.</summary>
public sealed record NetcheckOptions
{
    public static NetcheckOptions Default { get; } = new();

    /// <summary>
    /// The whole STUN budget, counted from the start (name resolution included): a server that has
    /// not answered by then counts as unreachable. Port-mapping probes run alongside, within
    /// <see cref="PortMappingTimeout"/>.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(2500);

    /// <summary>The first retransmission interval of each STUN request (doubling after).</summary>
    public TimeSpan InitialRto { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Binding requests per server address, one after another; the best round trip is its latency.</summary>
    public int LatencyProbes { get; init; } = 3;

    /// <summary>Whether to ask the gateway about NAT-PMP, PCP and UPnP.</summary>
    public bool ProbePortMapping { get; init; } = true;

    public TimeSpan PortMappingTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The gateway to ask about port mapping; null reads the default route from /proc/net/route.</summary>
    public IPAddress? Gateway { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where NAT-PMP and PCP are asked (5351; tests move it).</summary>
    internal int NatPmpPort { get; init; } = PortMappingProbe.NatPmpPort;

    /// <summary>Where SSDP M-SEARCH goes (the multicast group; tests move it).</summary>
    internal IPEndPoint SsdpEndpoint { get; init; } = PortMappingProbe.SsdpGroup;
}
