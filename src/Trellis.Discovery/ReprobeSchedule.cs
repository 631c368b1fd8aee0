namespace Trellis.Discovery;

/// <summary>
/// One peer's prompt re-probe: after a path change or a new candidate, full rounds at the
/// bind's back-off delays instead of at the next 60 s re-probe. Times are
/// <see cref="TimeProvider.GetTimestamp"/> ticks. Not thread-safe: the peer's Sync guards it.
/// </summary>
internal sealed class ReprobeSchedule
{
    // Index of the next round in the delays; past the end when idle.
    private int _step = int.MaxValue;

    /// <summary>When the next round is due; meaningful only while <see cref="Active"/>.</summary>
    public long DueAt { get; private set; }

    public bool Active => _step != int.MaxValue;

    /// <summary>Starts (or restarts) the schedule; returns when its first round is due.</summary>
    public long Arm(long now, ReadOnlySpan<long> delays)
    {
        _step = 0;
        DueAt = now + delays[0];
        return DueAt;
    }

    /// <summary>True when a round is due now; moves on to the next delay (or to idle after the last).</summary>
    public bool TakeDue(long now, ReadOnlySpan<long> delays)
    {
        if (!Active || now < DueAt)
        {
            return false;
        }

        _step++;
        if (_step < delays.Length)
        {
            DueAt = now + delays[_step];
        }
        else
        {
            _step = int.MaxValue;
        }

        return true;
    }
}
