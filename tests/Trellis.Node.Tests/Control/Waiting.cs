using Trellis.Node.Control;

namespace Trellis.Node.Tests.Control;

/// <summary>Waits on the client's own signals (status events, the map channel), never on a sleep.</summary>
internal static class Waiting
{
    // A safety net only: at a load of 60 on 2 cores a registration took over 20 s.
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Completes with the first status (current or later) that satisfies <paramref name="condition"/>.</summary>
    public static async Task<ControlStatus> ForStatusAsync(ControlClient client, Func<ControlStatus, bool> condition, string what)
    {
        var reached = new TaskCompletionSource<ControlStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChange(ControlStatus status)
        {
            if (condition(status))
            {
                reached.TrySetResult(status);
            }
        }

        client.StatusChanged += OnChange;
        try
        {
            OnChange(client.Status);
            return await reached.Task.WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"timed out waiting for {what}; the client is {client.Status}");
            throw;
        }
        finally
        {
            client.StatusChanged -= OnChange;
        }
    }

    /// <summary>Reads maps until one satisfies <paramref name="condition"/> (checking the current one first).</summary>
    public static async Task<NetMap> ForMapAsync(ControlClient client, Func<NetMap, bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            if (client.Current is { } current && condition(current))
            {
                return current;
            }

            while (true)
            {
                var map = await client.Maps.ReadAsync(timeout.Token);
                if (condition(map))
                {
                    return map;
                }
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"timed out waiting for {what}; the client is {client.Status}");
            throw;
        }
    }

    /// <summary>Polls <paramref name="probe"/> (a store read: no event says a write landed) until it yields a value.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T?>> probe, string what)
        where T : class
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
    }
}
