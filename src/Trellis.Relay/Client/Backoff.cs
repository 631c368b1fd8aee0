namespace Trellis.Relay.Client;

/// <summary>
/// Exponential reconnect delays with jitter: attempt n waits a random time between half and all of
/// min(max, base * 2^n), so clients dropped together by a restart do not return together.
/// </summary>
internal sealed class Backoff(TimeSpan baseDelay, TimeSpan maxDelay, Random random)
{
    public TimeSpan Delay(int attempt)
    {
        var ceiling = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (random.NextDouble() / 2)));
    }
}
