namespace Trellis.Net.Netcheck;

/// <summary>What a netcheck found about this host's connectivity (PROTOCOLS.md §5, "Netcheck").</summary>
public sealed record NetcheckReport
{
    /// <summary>At least one STUN server answered over IPv4.</summary>
    public bool UdpV4 { get; init; }

    public bool UdpV6 { get; init; }

    /// <summary>This host's IPv4 address and port as a STUN server saw them (after NAT), "a.b.c.d:port".</summary>
    public string? GlobalV4 { get; init; }

    /// <summary>As <see cref="GlobalV4"/>, "[v6]:port".</summary>
    public string? GlobalV6 { get; init; }

    /// <summary>
    /// Whether servers at different addresses saw different IPv4 mappings of the same socket (a
    /// "hard", symmetric NAT); null when fewer than two servers answered over IPv4.
    /// </summary>
    public bool? MappingVariesByDestination { get; init; }

    /// <summary>As <see cref="MappingVariesByDestination"/>, for IPv6 (where only NAT66 would make it true).</summary>
    public bool? MappingVariesByDestinationV6 { get; init; }

    /// <summary>The IPv4 default gateway that was asked about port mapping.</summary>
    public string? Gateway { get; init; }

    public bool NatPmp { get; init; }

    public bool Pcp { get; init; }

    public bool Upnp { get; init; }

    /// <summary>The region with the lowest latency: the home relay to choose.</summary>
    public int? PreferredRegion { get; init; }

    /// <summary>Every region of the map, in map order, with its latency when any node answered.</summary>
    public IReadOnlyList<RegionLatency> Regions { get; init; } = [];
}
