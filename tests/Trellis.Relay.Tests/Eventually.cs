namespace Trellis.Relay.Tests;

internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>A task that completes when <paramref name="subscribe"/>'s event first passes <paramref name="match"/>.</summary>
    public static Task<T> EventAsync<T>(Action<Action<T>> subscribe, Func<T, bool> match)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        subscribe(value =>
        {
            if (match(value))
            {
                done.TrySetResult(value);
            }
        });
        return done.Task;
    }
}
