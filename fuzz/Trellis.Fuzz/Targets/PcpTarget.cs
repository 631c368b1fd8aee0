using Trellis.Net.PortMapping;

namespace Trellis.Fuzz.Targets;

/// <summary>A datagram from the gateway's PCP port: both parsers say no, never throw.</summary>
public static class PcpTarget
{
    public static bool Run(ReadOnlySpan<byte> input) =>
        PcpPacket.IsUnsupportedVersion(input) | PcpPacket.TryParseMapResponse(input, out _);
}
