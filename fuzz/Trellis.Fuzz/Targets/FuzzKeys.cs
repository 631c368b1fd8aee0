using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Fuzz.Targets;

/// <summary>
/// Fixed keys for the targets and their seeds, so a sealed seed written once still opens in every
/// later run. They protect nothing: they are public in this file.
/// </summary>
public static class FuzzKeys
{
    /// <summary>The node (or relay server, or device) whose parser is fuzzed.</summary>
    public static Key Local { get; } = Fixed(0x11);

    public static Key LocalPublic { get; } = X25519.PublicKey(Local);

    /// <summary>The peer (or relay client) whose messages the seeds carry.</summary>
    public static Key Remote { get; } = Fixed(0x22);

    public static Key RemotePublic { get; } = X25519.PublicKey(Remote);

    /// <summary>The relay server's per-connection challenge that seeds are sealed under.</summary>
    public static ReadOnlySpan<byte> Challenge => "trellis fuzz challenge 32 bytes!"u8;

    private static Key Fixed(byte fill)
    {
        Span<byte> bytes = stackalloc byte[Key.Size];
        bytes.Fill(fill);
        X25519.Clamp(bytes);
        return new Key(bytes);
    }
}
