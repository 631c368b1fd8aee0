using System.Text.Json.Serialization;

namespace Trellis.Core.Control;

/// <summary>
/// The inbound filter a node enforces on packets from peers, after decryption and before its TUN:
/// a packet passes when it answers a flow the node opened, or when some rule matches its source,
/// destination, port and protocol. <see cref="AllowAll"/> is a deployment without a policy.
/// </summary>
public sealed record PacketFilter
{
    /// <summary>No policy configured: every packet from a peer passes, as before policies existed.</summary>
    public static PacketFilter AllowAll { get; } = new() { AllowsAll = true };

    /// <summary>A policy that grants this node nothing inbound (replies to its own flows still pass).</summary>
    public static PacketFilter DenyAll { get; } = new();

    /// <summary>True when no policy is configured; <see cref="Rules"/> is then ignored.</summary>
    public bool AllowsAll { get; init; }

    public IReadOnlyList<FilterRule> Rules { get; init; } = [];
}

/// <summary>One grant: packets from any of <see cref="Sources"/> to any of <see cref="Destinations"/>.</summary>
public sealed record FilterRule
{
    /// <summary>Source prefixes in CIDR text (a single host as /32 or /128); often one <see cref="EncodedStringList"/> shared by many nodes' filters.</summary>
    [JsonConverter(typeof(StringListConverter))]
    public required IReadOnlyList<string> Sources { get; init; }

    public required IReadOnlyList<FilterDestination> Destinations { get; init; }

    /// <summary>IANA protocol numbers (<see cref="IpProtocols"/>); empty means TCP, UDP, ICMP and ICMPv6.</summary>
    public IReadOnlyList<int> Protocols { get; init; } = [];
}

/// <summary>A destination prefix of this node (an overlay address or a served route) and a port range.</summary>
public sealed record FilterDestination
{
    public required string Prefix { get; init; }

    /// <summary>First port, inclusive; 0 with <see cref="LastPort"/> 65535 means every port (and every ICMP message).</summary>
    public int FirstPort { get; init; }

    public int LastPort { get; init; } = IpProtocols.MaxPort;
}
