namespace Trellis.Discovery;

/// <summary>
/// Punching on after a miss: for <see cref="PunchWindow"/> after a peer comes up (or names new
/// candidates) or its direct path is lost while traffic flows, a peer that has not answered a
/// direct ping since gets a full round every <see cref="PunchEvery"/>, even when no traffic flows.
/// The first round and the prompt re-probe can all fall before the peer's NAT has a mapping toward
/// us (its own rounds late on a loaded host, its endpoints reaching us after ours reached it), and
/// an idle pair would otherwise wait for its next packet (a pair with traffic has a full round
/// on every 3 s tick while on the relay, which this does not change).
/// Bound: a window is at most 60 / 5 = 12 rounds, each one ping per candidate (at most
/// <see cref="PeerState.MaxPaths"/>) and one call-me-maybe, so 12 x 33 = 396 datagrams per peer
/// (about 60 with the usual 3 to 5 candidates); the first pong from any candidate ends it, and
/// only a new cause (a map change naming new candidates, a new call-me-maybe candidate) opens another.
/// </summary>
public sealed partial class DiscoveryBind
{
    internal static readonly TimeSpan PunchEvery = TimeSpan.FromSeconds(5);
    internal static readonly TimeSpan PunchWindow = TimeSpan.FromSeconds(60);

    private long _punchRounds;

    /// <summary>Full rounds started because a peer in its punch window had not answered yet.</summary>
    public long PunchRounds => Interlocked.Read(ref _punchRounds);

    /// <summary>Starts (or restarts) the peer's punch window (peer.Sync held).</summary>
    private static void OpenPunchWindowLocked(PeerState peer, long now) => peer.PunchSince = now;

    /// <summary>
    /// A direct path that went stale while traffic flows is a lost path (peer.Sync held); one that
    /// went stale on an idle pair is not, nobody needed it.
    /// </summary>
    private static void NoteLostPathLocked(PeerState peer, DirectPath? direct, long now)
    {
        if (direct is not null && now >= direct.TrustedUntil && peer.PunchSince < direct.TrustedUntil)
        {
            OpenPunchWindowLocked(peer, now);
        }
    }

    /// <summary>True when the peer is in its punch window, unanswered since it opened, and a round is due (peer.Sync held).</summary>
    private bool PunchDueLocked(PeerState peer, long now)
    {
        var direct = peer.Direct;
        return !peer.DiscoOff
            && peer.PunchSince != 0
            && now - peer.PunchSince < Ticks(PunchWindow)
            && peer.LastPong < peer.PunchSince
            && (direct is null || now >= direct.TrustedUntil)
            && now - peer.LastFullRound >= Ticks(PunchEvery);
    }
}
