using Trellis.Net.PortMapping;

namespace Trellis.Fuzz.Targets;

/// <summary>A datagram from the gateway's NAT-PMP port, read as either reply the client waits for.</summary>
public static class NatPmpTarget
{
    public static bool Run(ReadOnlySpan<byte> input) =>
        NatPmpPacket.TryParseExternalAddressResponse(input, out _) | NatPmpPacket.TryParseMapResponse(input, out _);
}
