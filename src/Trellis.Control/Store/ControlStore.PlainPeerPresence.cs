using Microsoft.EntityFrameworkCore;

namespace Trellis.Control.Store;

// Whether a plain WireGuard peer is online: what its gateway reports of its handshakes. Each write
// names the gateway in its WHERE clause, so a node can only ever speak for the plain peers it serves.
public sealed partial class ControlStore
{
    /// <summary>
    /// Records a plain peer's presence as its gateway saw it: online or not, and when its latest
    /// handshake was (null leaves the last one recorded). Not found when the node is not a plain peer
    /// of <paramref name="gatewayId"/>; nothing is written then.
    /// </summary>
    public Task<StoreResult> SetPlainPeerPresenceAsync(long peerId, long gatewayId, bool online, DateTimeOffset? lastHandshake, CancellationToken cancellationToken = default)
    {
        IQueryable<Node> Served(TrellisDbContext db) => db.Nodes.Where(n => n.Id == peerId && n.GatewayId == gatewayId);
        var seen = Timestamps.Normalize(lastHandshake);
        return UpdateColumnsAsync(
            peerId,
            seen is { } at
                ? db => Served(db).ExecuteUpdateAsync(s => s.SetProperty(n => n.Online, online).SetProperty(n => n.LastSeen, at), cancellationToken)
                : db => Served(db).ExecuteUpdateAsync(s => s.SetProperty(n => n.Online, online), cancellationToken),
            cancellationToken);
    }

    /// <summary>Marks offline every plain peer of a gateway that left the mesh; the ids of those that were online.</summary>
    public async Task<IReadOnlyList<long>> MarkPlainPeersOfflineAsync(long gatewayId, CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var online = await db.Nodes.Where(n => n.GatewayId == gatewayId && n.Online).Select(n => n.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        if (online.Count > 0)
        {
            await db.Nodes.Where(n => n.GatewayId == gatewayId && n.Online)
                .ExecuteUpdateAsync(s => s.SetProperty(n => n.Online, false), cancellationToken).ConfigureAwait(false);
        }

        return online;
    }
}
