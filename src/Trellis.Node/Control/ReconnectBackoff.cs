namespace Trellis.Node.Control;

/// <summary>
/// Exponential delays with jitter: attempt n waits between half and all of min(max, base * 2^n), so
/// the nodes a server restart dropped together do not all return in the same instant.
/// </summary>
internal sealed class ReconnectBackoff(TimeSpan baseDelay, TimeSpan maxDelay)
{
    public TimeSpan Delay(int attempt)
    {
        var ceiling = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
    }
}
