namespace Trellis.Core.Control;

/// <summary>
/// A gateway tells the server when each plain WireGuard peer it serves last completed a handshake
/// with it: the only sign of life such a device gives. The server keeps only entries for plain peers
/// whose gateway is the sender, and marks each online while its handshake is recent
/// (<see cref="PlainPeerPresence"/>).
/// </summary>
public sealed record PlainPeerReport : ControlMessage
{
    public IReadOnlyList<PlainPeerHandshake> Peers { get; init; } = [];
}

/// <summary>One plain peer's latest handshake as its gateway saw it.</summary>
public sealed record PlainPeerHandshake
{
    public required long Id { get; init; }

    /// <summary>
    /// Whole seconds since that handshake when the report was sent; null when it has had none with
    /// this gateway since the gateway took it on. An age, not a time, so the two clocks need not agree.
    /// </summary>
    public long? AgeSeconds { get; init; }
}

/// <summary>When a plain peer counts as online, for the gateway that reports and the server that decides alike.</summary>
public static class PlainPeerPresence
{
    /// <summary>
    /// A handshake younger than this means the device is there: WireGuard renews the session every
    /// 120 s while packets flow (and the printed config keeps them flowing with a 25 s keepalive),
    /// and rejects a session older than 180 s (Reject-After-Time). So a device that stops shows
    /// offline at most 180 s after its last handshake, plus one report interval.
    /// </summary>
    public static readonly TimeSpan OnlineWindow = TimeSpan.FromSeconds(180);

    /// <summary>How often a gateway looks at its plain peers' handshakes; it reports only what changed.</summary>
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(10);

    /// <summary>The most entries one report may hold; the server refuses a longer one whole.</summary>
    public const int MaxPeersPerReport = 4096;

    /// <summary>Whether a handshake of this age (null: none) makes the device online.</summary>
    public static bool IsOnline(long? ageSeconds) => ageSeconds is >= 0 && ageSeconds < (long)OnlineWindow.TotalSeconds;
}
