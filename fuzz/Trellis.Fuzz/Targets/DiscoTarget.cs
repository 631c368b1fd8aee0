using Trellis.Discovery.Messages;

namespace Trellis.Fuzz.Targets;

/// <summary>
/// A disco packet as the bind hands it over: opened with this node's key (false, never a throw,
/// for anything malformed or forged), and the same bytes as a decrypted inner message, which the
/// fuzzer cannot reach through the AEAD.
/// </summary>
public static class DiscoTarget
{
    private static readonly DiscoSealer Sealer = new(FuzzKeys.Local);

    public static bool Run(ReadOnlySpan<byte> input)
    {
        _ = DiscoCodec.IsDisco(input);
        return Sealer.TryOpen(input, out _, out _) | DiscoCodec.TryReadInner(input, out _);
    }
}
