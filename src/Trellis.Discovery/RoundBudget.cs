namespace Trellis.Discovery;

/// <summary>
/// How many probe rounds a peer may still make us start: <c>burst</c> at once, then one per
/// <c>every</c> (a token bucket kept as one timestamp, the generic cell rate algorithm).
/// Times are <see cref="TimeProvider.GetTimestamp"/> ticks. Not thread-safe: the owner's lock guards it.
/// </summary>
internal sealed class RoundBudget
{
    // The moment the bucket would be full again; zero means full.
    private long _fullAt;

    public bool TryTake(long now, long every, int burst)
    {
        var fullAt = Math.Max(_fullAt, now);
        if (fullAt - now > (burst - 1) * every)
        {
            return false;
        }

        _fullAt = fullAt + every;
        return true;
    }
}
