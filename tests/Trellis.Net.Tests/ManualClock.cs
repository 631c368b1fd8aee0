using System.Threading.Channels;

namespace Trellis.Net.Tests;

/// <summary>
/// A clock that moves only when told (<see cref="Advance"/>), firing the timers that fall due. Tests
/// wait on <see cref="TimerArmedAsync"/> so they advance only once the code under test is waiting.
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    // A safety net for a test that is failing anyway: no scheduling stall on a busy machine lasts this long.
    private static readonly TimeSpan ArmedPatience = TimeSpan.FromSeconds(60);

    private readonly Lock _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private readonly Channel<TimeSpan> _armed = Channel.CreateUnbounded<TimeSpan>();
    private long _now;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch.AddTicks(GetTimestamp());

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>The next timer armed (its due time), in the order they were armed.</summary>
    public async Task<TimeSpan> TimerArmedAsync() =>
        await _armed.Reader.ReadAsync().AsTask().WaitAsync(ArmedPatience);

    public void Advance(TimeSpan by)
    {
        List<ManualTimer> due;
        lock (_gate)
        {
            _now += by.Ticks;
            due = _timers.Where(t => t.DueAt <= _now).OrderBy(t => t.DueAt).ToList();
            foreach (var timer in due)
            {
                _timers.Remove(timer);
            }
        }

        foreach (var timer in due)
        {
            timer.Fire();
        }
    }

    private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public long DueAt { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (period != Timeout.InfiniteTimeSpan && period != TimeSpan.Zero)
            {
                throw new NotSupportedException("the manual clock has one-shot timers only");
            }

            lock (clock._gate)
            {
                clock._timers.Remove(this);
                if (dueTime != Timeout.InfiniteTimeSpan)
                {
                    DueAt = clock._now + dueTime.Ticks;
                    clock._timers.Add(this);
                    clock._armed.Writer.TryWrite(dueTime);
                }
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
