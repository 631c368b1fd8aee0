using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Trellis.Control.AccessControl;

/// <summary>
/// Reloads the policy file when it changes: a FileSystemWatcher on its directory (editors often
/// write a new file and rename it over the old one) wakes a reload, and a periodic check catches
/// what the watcher misses (a full event queue, a directory replaced). The reload itself compares
/// content, so a spurious wake changes nothing.
/// </summary>
internal sealed partial class PolicyFileWatcher(PolicyService policy, ILogger<PolicyFileWatcher> logger, TimeSpan? checkInterval = null) : BackgroundService
{
    /// <summary>How often the file is checked even without an event.</summary>
    internal static readonly TimeSpan DefaultCheckInterval = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _checkInterval = checkInterval ?? DefaultCheckInterval;

    /// <summary>After an event, the wait for the writer to finish before the file is read.</summary>
    internal static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (policy.PolicyFile is not { } path)
        {
            return;
        }

        using var wake = new SemaphoreSlim(0);
        void Wake()
        {
            if (wake.CurrentCount == 0)
            {
                wake.Release();
            }
        }

        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        watcher.Changed += (_, _) => Wake();
        watcher.Created += (_, _) => Wake();
        watcher.Renamed += (_, _) => Wake();
        watcher.Error += (_, _) => Wake();
        watcher.EnableRaisingEvents = true;

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await wake.WaitAsync(_checkInterval, stoppingToken).ConfigureAwait(false))
                {
                    await Task.Delay(Settle, stoppingToken).ConfigureAwait(false);
                    while (wake.CurrentCount > 0)
                    {
                        await wake.WaitAsync(stoppingToken).ConfigureAwait(false); // events of the same write
                    }
                }

                await policy.ReloadFileAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A store that failed mid-reload (disk full, database down): the next check tries again.
                LogReloadFailed(logger, path, _checkInterval, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "reloading the policy file {Path} failed; trying again within {Interval}")]
    private static partial void LogReloadFailed(ILogger logger, string path, TimeSpan interval, Exception exception);
}
