namespace Trellis.Discovery;

/// <summary>
/// Prompt re-probing: after a path change, a new candidate (map or call-me-maybe), a peer coming
/// up, or a candidate proven beside the chosen path with too few pongs to be judged, every
/// candidate is probed again at 0.25, 0.5, 1 and 2 s (full rounds 0.25, 0.75, 1.75 and 3.75 s after
/// the cause), so an IPv6 path, a direct path beside the relay or a faster path is judged on
/// several pongs within seconds instead of at the next 60 s re-probe. A path that opens with no
/// such cause (a firewall rule lifted) is found by the rounds that already run: every 3 s on the
/// relay, each heartbeat on a direct path slower than a LAN (<see cref="PeerState.PlanUnprovenLocked"/>).
/// Bound: a round is one ping per candidate (at most <see cref="PeerState.MaxPaths"/>) and one
/// call-me-maybe, so a schedule costs at most 4 x 33 = 132 datagrams per peer (about 20 with the
/// usual 3 to 5 candidates); a peer may arm <see cref="ReprobeBurst"/> schedules at once, then one
/// per <see cref="ReprobeRefill"/>; a cause beyond that leaves the running schedule as it is.
/// </summary>
public sealed partial class DiscoveryBind
{
    internal const int ReprobeBurst = 3;
    internal static readonly TimeSpan ReprobeRefill = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan[] ReprobeDelays =
        [TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    private long[] _reprobeTicks = [];
    private long _reprobeRefillTicks;

    // Guarded by _reprobeLock: the one-shot timer and the moment it is set for (long.MaxValue: not set).
    private readonly object _reprobeLock = new();
    private ITimer? _reprobeTimer;
    private long _reprobeNextAt = long.MaxValue;
    private long _reprobeRounds;

    /// <summary>Full rounds started by prompt re-probing.</summary>
    public long ReprobeRounds => Interlocked.Read(ref _reprobeRounds);

    private void InitReprobe()
    {
        _reprobeTicks = [.. ReprobeDelays.Select(Ticks)];
        _reprobeRefillTicks = Ticks(ReprobeRefill);
    }

    /// <summary>Starts the peer's re-probe schedule (peer.Sync held), unless its budget is spent.</summary>
    private void ArmReprobeLocked(PeerState peer, long now)
    {
        if (peer.DiscoOff || !peer.ReprobeBudget.TryTake(now, _reprobeRefillTicks, ReprobeBurst))
        {
            return;
        }

        ScheduleReprobe(peer.Reprobe.Arm(now, _reprobeTicks), now);
    }

    /// <summary>Sets the timer for <paramref name="dueAt"/> unless it already fires earlier.</summary>
    private void ScheduleReprobe(long dueAt, long now)
    {
        lock (_reprobeLock)
        {
            if (_reprobeTimer is not { } timer || dueAt >= _reprobeNextAt)
            {
                return;
            }

            _reprobeNextAt = dueAt;
            timer.Change(_time.GetElapsedTime(now, Math.Max(dueAt, now)), Timeout.InfiniteTimeSpan);
        }
    }

    private void OnReprobeTimer()
    {
        try
        {
            // Cleared first: a schedule armed while the peers are walked sets the timer itself.
            lock (_reprobeLock)
            {
                _reprobeNextAt = long.MaxValue;
            }

            var now = _time.GetTimestamp();
            var next = long.MaxValue;
            foreach (var peer in _table.ByNodeKey.Values)
            {
                bool due;
                lock (peer.Sync)
                {
                    due = peer.Reprobe.TakeDue(now, _reprobeTicks);
                    if (peer.Reprobe.Active)
                    {
                        next = Math.Min(next, peer.Reprobe.DueAt);
                    }
                }

                if (due)
                {
                    Interlocked.Increment(ref _reprobeRounds);
                    StartRound(peer, full: true);
                }
            }

            if (next != long.MaxValue)
            {
                ScheduleReprobe(next, now);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            LogTickFailed(e);
        }
    }
}
