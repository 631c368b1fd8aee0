using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.Control.NodeProtocol;

namespace Trellis.Control.Replicas;

/// <summary>
/// Keeps the replicas' URLs that every map carries (<see cref="Mesh.MeshState.SetReplicaUrls"/>) in
/// step with the roster, and the embedded relay meshed with the other replicas' relays
/// (<see cref="ReplicaRelayMesh"/>): read every <see cref="Period"/>, and at once when this replica
/// announces its own. A replica joining, dying or being swept reaches this replica's nodes as a
/// delta, and its relay, within a period; a list that did not change sends nothing.
/// </summary>
public sealed partial class ReplicaDirectory(ReplicaRoster roster, ControlService service, TimeProvider time, ILogger<ReplicaDirectory> logger) : BackgroundService
{
    /// <summary>How often the roster is read; nodes need the list long before their replica goes, not at once.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    // set once by AnnounceAsync, before the timer starts
    private ReplicaRelayMesh? _relayMesh;

    /// <summary>
    /// Records this replica's public URL (none configured: it is not advertised) and, with
    /// <paramref name="relayMesh"/>, its embedded relay's key, which it then keeps meshed with the
    /// other replicas' relays; then reads the roster.
    /// </summary>
    public async Task AnnounceAsync(Uri? publicUrl, ReplicaRelayMesh? relayMesh, CancellationToken cancellationToken)
    {
        if (publicUrl is not null)
        {
            _relayMesh = relayMesh;
            await roster.SetUrlAsync(publicUrl, relayMesh?.RelayKey, cancellationToken).ConfigureAwait(false);
        }

        await RefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the live replicas, hands their URLs to the mesh and their relays to the relay mesh.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var live = await roster.LiveAsync(cancellationToken).ConfigureAwait(false);
        service.Mesh.SetReplicaUrls([.. live.Select(r => r.Url)]);
        if (_relayMesh is { } relayMesh)
        {
            await relayMesh.UpdateAsync(live, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await RefreshAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The maps keep the list they have and the relay its links; the next tick tries again.
                LogReadFailed(logger, e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "replicas: could not read the roster or follow it (URLs in the maps, relay mesh links): {Reason}")]
    private static partial void LogReadFailed(ILogger logger, string reason);
}
