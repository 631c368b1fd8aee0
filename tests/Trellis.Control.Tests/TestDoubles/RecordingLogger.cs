using Microsoft.Extensions.Logging;

namespace Trellis.Control.Tests.TestDoubles;

/// <summary>Keeps what was logged and lets a test wait for an entry, instead of sleeping.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly Lock _lock = new();
    private readonly List<(LogLevel Level, string Message, Exception? Exception)> _entries = [];
    private readonly List<(Func<LogLevel, string, bool> Match, TaskCompletionSource<string> Seen)> _waiters = [];

    public IReadOnlyList<(LogLevel Level, string Message, Exception? Exception)> Entries
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception);
        lock (_lock)
        {
            _entries.Add((logLevel, message, exception));
            foreach (var waiter in _waiters.Where(w => w.Match(logLevel, message)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Seen.TrySetResult(message);
            }
        }
    }

    /// <summary>The first entry (logged already or later) that matches; the timeout is only a safety net.</summary>
    public async Task<string> WaitForAsync(Func<LogLevel, string, bool> match)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            foreach (var (level, message, _) in _entries)
            {
                if (match(level, message))
                {
                    return message;
                }
            }

            _waiters.Add((match, seen));
        }

        return await seen.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
