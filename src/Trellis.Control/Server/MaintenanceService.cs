using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Store;

namespace Trellis.Control.Server;

/// <summary>
/// Periodic chores: ephemeral nodes offline past their timeout are deleted, and nodes whose key
/// expired leave the mesh. Both reach connected nodes as removals.
/// </summary>
internal sealed partial class MaintenanceService(ControlService service, ServerOptions options, TimeProvider time, ILogger<MaintenanceService> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await SweepAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    internal async Task SweepAsync(CancellationToken cancellationToken)
    {
        foreach (var node in await service.Store.DeleteExpiredEphemeralAsync(options.EphemeralTimeout, cancellationToken).ConfigureAwait(false))
        {
            LogEphemeralDeleted(logger, node.Name);
            service.Removed(node.Id, "ephemeral node offline too long");
        }

        var nodes = await service.Store.ListNodesAsync(null, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        foreach (var node in nodes.Value ?? [])
        {
            if (node.IsExpired(now) && service.Mesh.Get(node.Id) is not null)
            {
                service.Removed(node.Id, "key expired");
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ephemeral node {Name} deleted after going offline")]
    private static partial void LogEphemeralDeleted(ILogger logger, string name);
}
