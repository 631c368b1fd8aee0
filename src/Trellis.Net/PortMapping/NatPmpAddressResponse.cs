using System.Net;

namespace Trellis.Net.PortMapping;

/// <summary>A parsed NAT-PMP external address response (RFC 6886 §3.2).</summary>
public readonly record struct NatPmpAddressResponse(NatPmpResultCode Result, uint Epoch, IPAddress ExternalAddress);
