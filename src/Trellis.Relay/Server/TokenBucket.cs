namespace Trellis.Relay.Server;

/// <summary>
/// A byte token bucket on a <see cref="TimeProvider"/>: <c>rate</c> bytes per second, at most
/// <c>burst</c> saved up. Taking more than there is goes into debt, and the answer is how long to
/// wait for the debt to clear; the reader sleeps that long, which back-pressures the sender through
/// TCP. One connection's reader uses it, so there is no locking.
/// </summary>
internal sealed class TokenBucket
{
    private readonly double _rate;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _last;

    public TokenBucket(long bytesPerSecond, long burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(bytesPerSecond, 0);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(burst, 0);
        _rate = bytesPerSecond;
        _burst = burst;
        _time = time;
        _tokens = burst;
        _last = time.GetTimestamp();
    }

    /// <summary>Takes <paramref name="bytes"/>; zero when they were there, else the wait until the debt is paid.</summary>
    public TimeSpan Take(int bytes)
    {
        var now = _time.GetTimestamp();
        _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * _rate));
        _last = now;
        _tokens -= bytes;
        return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _rate);
    }
}
