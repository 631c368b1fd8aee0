using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Trellis.Relay.Tests;

/// <summary>
/// A fake clock that also tells the test each timer the code under test arms (its due time), so the
/// test moves the clock only once that code is waiting, and by exactly what it waits for.
/// </summary>
internal sealed class SignallingClock() : FakeTimeProvider(DateTimeOffset.UtcNow)
{
    // A safety net for a test that is failing anyway: no scheduling stall on a busy machine lasts this long.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly Channel<TimeSpan> _armed = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _armed.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Forgets the timers armed so far (start-up, handshakes), so the next one is what the test is about.</summary>
    public void ForgetArmed()
    {
        while (_armed.Reader.TryRead(out _))
        {
        }
    }

    /// <summary>The due time of the next timer armed, in the order they were armed.</summary>
    public async Task<TimeSpan> NextArmedAsync() => await _armed.Reader.ReadAsync().AsTask().WaitAsync(Patience);
}
