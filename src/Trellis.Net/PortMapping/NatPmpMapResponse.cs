namespace Trellis.Net.PortMapping;

/// <summary>A parsed NAT-PMP mapping response (RFC 6886 §3.3); ports and lifetime are meaningful on success only.</summary>
public readonly record struct NatPmpMapResponse(
    NatPmpResultCode Result,
    uint Epoch,
    ushort InternalPort,
    ushort ExternalPort,
    uint LifetimeSeconds);
