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
}
