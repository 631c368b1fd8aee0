namespace Trellis.WireGuard;

/// <summary>The first byte of every WireGuard message (then three zero bytes).</summary>
public enum MessageType : byte
{
    Initiation = 1,
    Response = 2,
    CookieReply = 3,
    Transport = 4,
}
