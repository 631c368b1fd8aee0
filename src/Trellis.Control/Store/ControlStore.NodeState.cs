using Microsoft.EntityFrameworkCore;
using Trellis.Core.Build;

namespace Trellis.Control.Store;

// What connected nodes report about themselves. These run often, so each is a single UPDATE
// statement (atomic by itself) rather than a load, a change and a save.
public sealed partial class ControlStore
{
    public async Task<StoreResult> SetEndpointsAsync(long nodeId, IReadOnlyList<string> endpoints, CancellationToken cancellationToken = default)
    {
        if (!EndpointLists.TryNormalize(endpoints, out var normalized, out var error))
        {
            return StoreFailure.Invalid(error);
        }

        return await UpdateColumnsAsync(nodeId, db => db.Nodes.Where(n => n.Id == nodeId)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.Endpoints, normalized), cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records what a connected node reports about how to reach it, endpoints, home relay and
    /// whether it relays for peers and its NAT maps per destination, together in one statement: a
    /// reader (or another replica) never sees one without the others.
    /// </summary>
    public async Task<StoreResult> SetReachabilityAsync(
        long nodeId, IReadOnlyList<string> endpoints, int homeRelay, bool peerRelay, bool mappingVaries, CancellationToken cancellationToken = default)
    {
        if (!EndpointLists.TryNormalize(endpoints, out var normalized, out var error))
        {
            return StoreFailure.Invalid(error);
        }

        if (homeRelay < 0)
        {
            return InvalidHomeRelay(homeRelay);
        }

        return await UpdateColumnsAsync(nodeId, db => db.Nodes.Where(n => n.Id == nodeId)
            .ExecuteUpdateAsync(
                s => s.SetProperty(n => n.Endpoints, normalized).SetProperty(n => n.HomeRelay, homeRelay)
                    .SetProperty(n => n.PeerRelay, peerRelay).SetProperty(n => n.MappingVaries, mappingVaries),
                cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sets the relay region the node is attached to (0 for none).</summary>
    public async Task<StoreResult> SetHomeRelayAsync(long nodeId, int relay, CancellationToken cancellationToken = default)
    {
        if (relay < 0)
        {
            return InvalidHomeRelay(relay);
        }

        return await UpdateColumnsAsync(nodeId, db => db.Nodes.Where(n => n.Id == nodeId)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.HomeRelay, relay), cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records the node going online or offline; <paramref name="lastSeen"/> defaults to now.
    /// Offline, it offers no peer relay and reports no mapping; and a replica marks offline only a
    /// node whose session it holds, not one that has meanwhile connected to another replica.
    /// </summary>
    public async Task<StoreResult> SetOnlineAsync(long nodeId, bool online, DateTimeOffset? lastSeen = null, CancellationToken cancellationToken = default)
    {
        var seen = Timestamps.Normalize(lastSeen ?? _time.GetUtcNow());
        var replica = _options.ReplicaOrigin;
        return await UpdateColumnsAsync(nodeId, db => db.Nodes.Where(n => n.Id == nodeId && (online || n.Replica == replica))
            .ExecuteUpdateAsync(
                s => s.SetProperty(n => n.Online, online).SetProperty(n => n.LastSeen, seen)
                    .SetProperty(n => n.PeerRelay, n => online && n.PeerRelay).SetProperty(n => n.MappingVaries, n => online && n.MappingVaries),
                cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records the node connecting, with the version it reports (null from a node that does not say).</summary>
    public async Task<StoreResult> SetConnectedAsync(long nodeId, string? version, DateTimeOffset? lastSeen = null, CancellationToken cancellationToken = default)
    {
        if (version is not null && !NodeVersion.IsValid(version))
        {
            return StoreFailure.Invalid(NodeVersion.Problem(version));
        }

        var seen = Timestamps.Normalize(lastSeen ?? _time.GetUtcNow());
        return await UpdateColumnsAsync(nodeId, db => db.Nodes.Where(n => n.Id == nodeId)
            .ExecuteUpdateAsync(
                s => s.SetProperty(n => n.Online, true).SetProperty(n => n.LastSeen, seen).SetProperty(n => n.Version, version).SetProperty(n => n.Replica, _options.ReplicaOrigin),
                cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>At server start nobody is connected yet, whatever the last run recorded.</summary>
    public async Task<int> MarkAllOfflineAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.Nodes.Where(n => n.Online)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.Online, false).SetProperty(n => n.PeerRelay, false).SetProperty(n => n.MappingVaries, false), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A replica died: the nodes still online on it go offline (a node that has reconnected to
    /// another replica since is attributed to that one and stays). Returns the ids it took offline.
    /// </summary>
    public async Task<IReadOnlyList<long>> MarkOfflineOnReplicaAsync(string replica, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(replica);
        var seen = Now();
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var ids = await db.Nodes.Where(n => n.Online && n.Replica == replica).Select(n => n.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        if (ids.Count > 0)
        {
            await db.Nodes.Where(n => ids.Contains(n.Id) && n.Online && n.Replica == replica)
                .ExecuteUpdateAsync(
                    s => s.SetProperty(n => n.Online, false).SetProperty(n => n.LastSeen, seen).SetProperty(n => n.PeerRelay, false).SetProperty(n => n.MappingVaries, false),
                    cancellationToken).ConfigureAwait(false);
        }

        return ids;
    }

    private static StoreFailure InvalidHomeRelay(int relay) =>
        StoreFailure.Invalid($"invalid home relay {relay}: relay regions are positive, 0 for none");

    /// <summary>One statement, retried like every other write: busy is no reason to drop what a node reported.</summary>
    private Task<StoreResult> UpdateColumnsAsync(long nodeId, Func<TrellisDbContext, Task<int>> update, CancellationToken cancellationToken) =>
        RetryingAsync(
            async () =>
            {
                await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
                return await update(db).ConfigureAwait(false) == 0 ? NoSuchNode(nodeId) : StoreResult.Ok;
            },
            cancellationToken);
}
