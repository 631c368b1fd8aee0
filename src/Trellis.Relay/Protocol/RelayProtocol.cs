using Trellis.Core.Keys;

namespace Trellis.Relay.Protocol;

/// <summary>Constants of the relay wire protocol (see README.md next to this project).</summary>
public static class RelayProtocol
{
    public const int Version = 1;

    /// <summary>Type byte and 4-byte big-endian payload length.</summary>
    public const int HeaderSize = 5;

    /// <summary>The largest packet a client may send or receive.</summary>
    public const int MaxPacketSize = 64 * 1024;

    /// <summary>The largest payload of any frame: a forwarded packet with its two keys, and some slack.</summary>
    public const int MaxFrameLength = MaxPacketSize + (2 * Key.Size) + 64;

    /// <summary>
    /// The largest ClientInfo the server reads: a key, a nonce, a tag and a small JSON object with
    /// the mesh key. A stranger announcing a packet-sized first frame is cut off before anything is
    /// buffered for it.
    /// </summary>
    public const int MaxClientInfoLength = 8192;

    /// <summary>The longest mesh key, in characters: JSON-escaped in a ClientInfo it must stay within <see cref="MaxClientInfoLength"/>.</summary>
    public const int MaxMeshKeyLength = 1024;

    /// <summary>The token in the HTTP Upgrade header.</summary>
    public const string UpgradeToken = "trellis-relay";

    public const string DefaultPath = "/relay";

    public const int MagicSize = 8;

    public const int ChallengeSize = 32;

    public const int PingSize = 8;

    /// <summary>Where pooled frame buffers hold a frame's payload: room in front for a header and a key.</summary>
    internal const int PayloadOffset = HeaderSize + Key.Size;

    /// <summary>"TRLSRLY" and the protocol version, first in the server key frame.</summary>
    public static ReadOnlySpan<byte> Magic => "TRLSRLY\u0001"u8;
}
