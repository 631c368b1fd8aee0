namespace Trellis.Core.Time;

/// <summary>
/// A clock that runs <c>rate</c> times faster than the system's from the moment it is created, with
/// timers to match. Test-only: lets a lab test watch a 120-second rekey happen in a few seconds
/// against real peers (TRELLIS_TEST_CLOCK_RATE).
/// </summary>
public sealed class ScaledTimeProvider : TimeProvider
{
    private readonly TimeProvider _inner;
    private readonly double _rate;
    private readonly DateTimeOffset _startUtc;
    private readonly long _startTimestamp;

    public ScaledTimeProvider(double rate, TimeProvider? inner = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(rate, 0);
        _inner = inner ?? System;
        _rate = rate;
        _startUtc = _inner.GetUtcNow();
        _startTimestamp = _inner.GetTimestamp();
    }

    public double Rate => _rate;

    public override long TimestampFrequency => _inner.TimestampFrequency;

    public override DateTimeOffset GetUtcNow() => _startUtc + ((_inner.GetUtcNow() - _startUtc) * _rate);

    public override long GetTimestamp() => _startTimestamp + (long)((_inner.GetTimestamp() - _startTimestamp) * _rate);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new ScaledTimer(_inner.CreateTimer(callback, state, Scale(dueTime), Scale(period)), this);

    private TimeSpan Scale(TimeSpan t) => t == Timeout.InfiniteTimeSpan ? t : t / _rate;

    private sealed class ScaledTimer(ITimer inner, ScaledTimeProvider clock) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(clock.Scale(dueTime), clock.Scale(period));

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>The clock named by TRELLIS_TEST_CLOCK_RATE when set to a positive number, else the system clock.</summary>
    public static TimeProvider FromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable("TRELLIS_TEST_CLOCK_RATE");
        return double.TryParse(text, global::System.Globalization.CultureInfo.InvariantCulture, out var rate) && rate > 0 && rate != 1
            ? new ScaledTimeProvider(rate)
            : System;
    }
}
