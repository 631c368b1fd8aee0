using Microsoft.Extensions.Time.Testing;
using Trellis.Control.Mesh;

namespace Trellis.Control.Tests.Mesh;

public class SessionSignalTests
{
    private static readonly TimeSpan Keepalive = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_wake_up_before_the_wait_is_kept_for_it_and_only_once()
    {
        var clock = new FakeTimeProvider();
        using var signal = new SessionSignal(clock);
        signal.Set();
        signal.Set();

        var first = signal.WaitAsync(Keepalive, CancellationToken.None);
        Assert.True(first.IsCompletedSuccessfully);
        Assert.True(await first);

        var second = signal.WaitAsync(Keepalive, CancellationToken.None);
        Assert.False(second.IsCompleted);
        clock.Advance(Keepalive);
        Assert.False(await second);
    }

    [Fact]
    public async Task A_wait_ends_with_a_wake_up_from_another_thread_and_otherwise_only_at_its_timeout()
    {
        var clock = new FakeTimeProvider();
        using var signal = new SessionSignal(clock);

        var woken = signal.WaitAsync(Keepalive, CancellationToken.None).AsTask();
        await Task.Run(signal.Set);
        Assert.True(await woken);

        var quiet = signal.WaitAsync(Keepalive, CancellationToken.None).AsTask();
        clock.Advance(Keepalive - TimeSpan.FromMilliseconds(1));
        Assert.False(quiet.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(await quiet);

        // The next wait gets a full timeout of its own.
        var next = signal.WaitAsync(Keepalive, CancellationToken.None).AsTask();
        clock.Advance(Keepalive / 2);
        Assert.False(next.IsCompleted);
        signal.Set();
        Assert.True(await next);
    }

    [Fact]
    public async Task Cancelling_ends_the_wait_and_a_later_wake_up_waits_for_the_next_one()
    {
        var clock = new FakeTimeProvider();
        using var signal = new SessionSignal(clock);
        using var stop = new CancellationTokenSource();

        var wait = signal.WaitAsync(Keepalive, stop.Token);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);

        signal.Set();
        Assert.True(await signal.WaitAsync(Keepalive, CancellationToken.None));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await signal.WaitAsync(Keepalive, stop.Token));
    }

    [Fact]
    public void Waiting_and_waking_allocate_nothing_per_wait()
    {
        // The real clock: its timer re-arms in place (the fake one records each arming).
        using var signal = new SessionSignal(TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var woken = WaitThenWake(signal, stop.Token, 100); // warm up: the token's callback list, the timer

        var before = GC.GetAllocatedBytesForCurrentThread();
        woken += WaitThenWake(signal, stop.Token, 1000);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(1100, woken);
        Assert.True(allocated < 1000, $"1,000 waits allocated {allocated} bytes");
    }

    private static int WaitThenWake(SessionSignal signal, CancellationToken cancellationToken, int times)
    {
        var woken = 0;
        for (var i = 0; i < times; i++)
        {
            var wait = signal.WaitAsync(Keepalive, cancellationToken);
            var pending = !wait.IsCompleted;
            signal.Set();
            woken += pending && wait.GetAwaiter().GetResult() ? 1 : 0;
        }

        return woken;
    }
}
