namespace Trellis.Lab;

/// <summary>The router behaviours of PROTOCOLS.md §4 that a <see cref="NatRouter"/> reproduces.</summary>
public enum NatKind
{
    /// <summary>
    /// Endpoint-independent mapping, address-and-port-dependent filtering: nftables <c>masquerade</c>,
    /// which keeps a flow's source port whenever it is free.
    /// </summary>
    Easy,

    /// <summary>
    /// Symmetric: <c>masquerade random</c> picks each flow's port from a hash of its addresses and
    /// destination port, so every destination sees another port (and the same destination the same one).
    /// </summary>
    Hard,

    /// <summary>Carrier-grade NAT: an easy NAT with 100.64.0.0/10 inside, in front of the home's easy NAT.</summary>
    Cgnat,

    /// <summary>IPv6 without translation behind a stateful firewall: replies and related traffic come in, new flows do not. No IPv4.</summary>
    IPv6Firewall,
}
