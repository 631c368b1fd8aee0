using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Replicas;
using Trellis.Core;

namespace Trellis.Control.Server;

/// <summary>
/// Periodic chores: ephemeral nodes offline past their timeout are deleted (counting only time
/// this server was up to see them), nodes that waited too long for approval are deleted, and nodes
/// whose key expired leave the mesh. All reach connected nodes as removals. A sweep that fails
/// (disk full, database locked) is logged and tried again at the next tick; it never stops the server.
/// Replicas on one PostgreSQL database delete and prune only while they hold the
/// <see cref="MaintenanceLease"/> (one at a time); every replica takes expired nodes out of its own mesh.
/// </summary>
/// <param name="lease">Null with SQLite: the one server always runs maintenance.</param>
/// <param name="changeLog">The replicas' change log, pruned by the lease holder; null with SQLite.</param>
/// <param name="roster">The running replicas: the lease holder marks a dead one's nodes offline; null with SQLite.</param>
internal sealed partial class MaintenanceService(
    ControlService service, ServerOptions options, TimeProvider time, ILogger<MaintenanceService> logger,
    MaintenanceLease? lease = null, ChangeLog? changeLog = null, ReplicaRoster? roster = null) : BackgroundService
{
    // Touched only by the maintenance loop.
    private bool _leading;

    internal static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => RunAsync(stoppingToken);

    /// <summary>Sweeps every <see cref="Period"/> until stopped; the timer starts before the first await.</summary>
    internal async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await SweepAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed(logger, Period, e);
            }
        }
    }

    internal async Task SweepAsync(CancellationToken cancellationToken)
    {
        var leading = lease is null || await lease.HoldAsync(cancellationToken).ConfigureAwait(false);
        if (leading != _leading && lease is not null)
        {
            LogLeading(logger, leading);
        }

        _leading = leading;
        if (leading)
        {
            await CleanUpAsync(cancellationToken).ConfigureAwait(false);
        }

        var nodes = await service.Store.ListNodesAsync(null, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        foreach (var node in nodes.Value ?? [])
        {
            // Read back under the node's guard: it may have registered a new key since the list was read.
            if (node.IsExpired(now) && service.Mesh.Get(node.Id) is not null
                && await service.PublishAsync(node.Id, "key expired").ConfigureAwait(false) is null)
            {
                LogKeyExpired(logger, node.Name, node.Id);
            }
        }
    }

    private async Task CleanUpAsync(CancellationToken cancellationToken)
    {
        var ephemeral = await service.Store.DeleteExpiredEphemeralAsync(options.EphemeralTimeout, service.StartedAt, cancellationToken).ConfigureAwait(false);
        foreach (var node in ephemeral)
        {
            LogEphemeralDeleted(logger, node.Name);
            await service.PublishAsync(node.Id, "ephemeral node offline too long").ConfigureAwait(false);
        }

        foreach (var node in await service.Store.DeleteStalePendingAsync(options.PendingNodeExpiry, cancellationToken).ConfigureAwait(false))
        {
            LogPendingDeleted(logger, node.Name, Durations.Describe(options.PendingNodeExpiry));
        }

        if (changeLog is not null)
        {
            await changeLog.PruneAsync(cancellationToken).ConfigureAwait(false);
        }

        if (roster is not null)
        {
            await roster.TakeDepartedAsync(origin => MarkOfflineAsync(origin, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A replica died without marking its nodes offline: those still attributed to it go offline
    /// here (the change feed tells the other replicas; this one publishes them itself).
    /// </summary>
    private async Task MarkOfflineAsync(string origin, CancellationToken cancellationToken)
    {
        var nodes = await service.Store.MarkOfflineOnReplicaAsync(origin, cancellationToken).ConfigureAwait(false);
        LogReplicaDeparted(logger, origin, nodes.Count);
        foreach (var id in nodes)
        {
            await service.PublishAsync(id).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "maintenance lease: this replica runs maintenance now: {Leading}")]
    private static partial void LogLeading(ILogger logger, bool leading);

    [LoggerMessage(Level = LogLevel.Information, Message = "replica {Origin} is gone: {Count} of its nodes marked offline")]
    private static partial void LogReplicaDeparted(ILogger logger, string origin, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "ephemeral node {Name} deleted after going offline")]
    private static partial void LogEphemeralDeleted(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Name} deleted: nobody approved it within {Expiry}")]
    private static partial void LogPendingDeleted(ILogger logger, string name, string expiry);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Name} ({Id}) left the mesh: its key expired")]
    private static partial void LogKeyExpired(ILogger logger, string name, long id);

    [LoggerMessage(Level = LogLevel.Error, Message = "maintenance sweep failed; trying again in {Period}")]
    private static partial void LogSweepFailed(ILogger logger, TimeSpan period, Exception exception);
}
