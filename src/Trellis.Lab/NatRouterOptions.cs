namespace Trellis.Lab;

/// <summary>Choices for one <see cref="NatRouter"/>; the defaults give every router its own LAN prefix.</summary>
public sealed record NatRouterOptions
{
    public static NatRouterOptions Default { get; } = new();

    /// <summary>
    /// The router's address on its LAN, with the LAN's prefix length (e.g. 192.168.1.1/24, to put two
    /// homes on the same private prefix); null picks 192.168.N.1/24 for router number N.
    /// </summary>
    public LabAddress? LanIPv4 { get; init; }

    /// <summary>
    /// Also give the LAN a global IPv6 /64 behind the stateful firewall (a dual-stack home). Always on
    /// for <see cref="NatKind.IPv6Firewall"/>; only for routers attached to the internet directly.
    /// </summary>
    public bool IPv6 { get; init; }

    /// <summary>
    /// Also run miniupnpd on the router, answering NAT-PMP and PCP on its LAN address (UDP 5351) and
    /// adding the port forwards it grants to the router's nftables rules. IPv4 kinds only.
    /// </summary>
    public bool PortMapping { get; init; }
}
