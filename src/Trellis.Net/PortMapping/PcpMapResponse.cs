using System.Net;

namespace Trellis.Net.PortMapping;

/// <summary>A parsed PCP MAP response (RFC 6887 §11.1); the assigned port and address are meaningful on success only.</summary>
public readonly record struct PcpMapResponse(
    PcpResultCode Result,
    uint LifetimeSeconds,
    uint Epoch,
    ReadOnlyMemory<byte> Nonce,
    byte Protocol,
    ushort InternalPort,
    ushort ExternalPort,
    IPAddress ExternalAddress);
