namespace Trellis.Lab;

/// <summary>
/// Waiting for a condition with a deadline: the condition is checked at once and then about every
/// <see cref="Interval"/>; when the deadline passes a <see cref="TimeoutException"/> names what was awaited.
/// </summary>
public static class Poll
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    public static Task UntilAsync(
        Func<bool> condition,
        TimeSpan timeout,
        string description,
        CancellationToken cancellationToken = default) =>
        UntilAsync(_ => Task.FromResult(condition()), timeout, description, cancellationToken);

    public static async Task UntilAsync(
        Func<CancellationToken, Task<bool>> condition,
        TimeSpan timeout,
        string description,
        CancellationToken cancellationToken = default)
    {
        await ForValueAsync<object>(
            async ct => await condition(ct).ConfigureAwait(false) ? true : null,
            timeout,
            description,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Polls <paramref name="probe"/> until it returns a non-null value, and returns that value.</summary>
    public static async Task<T> ForValueAsync<T>(
        Func<CancellationToken, Task<T?>> probe,
        TimeSpan timeout,
        string description,
        CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(probe);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var started = DateTime.UtcNow;
            var value = await probe(cancellationToken).ConfigureAwait(false);
            if (value is not null)
            {
                return value;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {description}");
            }

            // Keep a steady ~100 ms cadence even when the probe itself takes a while.
            var pause = Interval - (DateTime.UtcNow - started);
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
