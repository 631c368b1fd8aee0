using Trellis.Net.Stun;

namespace Trellis.Fuzz.Targets;

/// <summary>A datagram on the STUN port or the node's shared socket: TryParse says no, never throws.</summary>
public static class StunTarget
{
    public static bool Run(ReadOnlySpan<byte> input)
    {
        _ = StunPacket.IsStunPacket(input);
        return StunMessage.TryParse(input, out _);
    }
}
