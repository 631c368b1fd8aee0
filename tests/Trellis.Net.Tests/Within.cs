namespace Trellis.Net.Tests;

internal static class Within
{
    /// <summary>
    /// Awaits a task that may block in the kernel; on timeout runs <paramref name="unblock"/> (a Close)
    /// so the thread is not left stuck, and fails with <paramref name="what"/>.
    /// </summary>
    public static async Task<T> Complete<T>(Task<T> task, TimeSpan timeout, Action unblock, string what)
    {
        if (await Task.WhenAny(task, Task.Delay(timeout)) != task)
        {
            unblock();
            Assert.Fail($"{what} (not done within {timeout})");
        }

        return await task;
    }

    /// <summary>Runs a blocking loop on its own thread, not a pool thread it could starve.</summary>
    public static Task<T> OnThread<T>(Func<T> body) =>
        Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// On a thread of its own, <paramref name="warmUp"/> rounds, then the bytes <paramref name="measured"/>
    /// more allocate on that thread (a test that does both sides on it sees every byte either allocates).
    /// <paramref name="wait"/>, run once after the warm-up, takes the path a round takes only when its
    /// packets come late (a receive that finds nothing and waits in poll): on a busy machine that happens
    /// in some measured round, and a path's first use allocates (binding poll), which is no steady state.
    /// </summary>
    public static Task<long> AllocatedOverRounds(Action round, int warmUp, int measured, Action? wait = null) => OnThread(() =>
    {
        for (var i = 0; i < warmUp; i++)
        {
            round();
        }

        wait?.Invoke();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < measured; i++)
        {
            round();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    });
}
