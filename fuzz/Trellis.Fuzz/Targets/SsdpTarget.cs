using Trellis.Net.PortMapping;

namespace Trellis.Fuzz.Targets;

/// <summary>A reply to M-SEARCH from anyone on the LAN.</summary>
public static class SsdpTarget
{
    public static bool Run(ReadOnlySpan<byte> input) => SsdpSearch.TryParseResponse(input, out _);
}
