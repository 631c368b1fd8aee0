using Microsoft.EntityFrameworkCore;
using Trellis.Core.Keys;

namespace Trellis.Control.Store;

// Nodes: lookups and admin operations.
public sealed partial class ControlStore
{
    public async Task<Node?> GetNodeByIdAsync(long nodeId, CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.Nodes.AsNoTracking().Include(n => n.User)
            .SingleOrDefaultAsync(n => n.Id == nodeId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Node?> GetNodeByMachineKeyAsync(Key machineKey, CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.Nodes.AsNoTracking().Include(n => n.User)
            .SingleOrDefaultAsync(n => n.MachineKey == machineKey, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Node?> GetNodeByNodeKeyAsync(Key nodeKey, CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.Nodes.AsNoTracking().Include(n => n.User)
            .SingleOrDefaultAsync(n => n.NodeKey == nodeKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>All nodes, or those of one user, owners included, in registration order.</summary>
    public async Task<StoreResult<IReadOnlyList<Node>>> ListNodesAsync(string? user = null, CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var query = db.Nodes.AsNoTracking().Include(n => n.User).AsQueryable();
        if (user is not null)
        {
            var (owner, failure) = await FindUserAsync(db, user, cancellationToken).ConfigureAwait(false);
            if (failure is not null)
            {
                return failure;
            }

            query = query.Where(n => n.UserId == owner!.Id);
        }

        return StoreResult<IReadOnlyList<Node>>.Ok(
            await query.OrderBy(n => n.Id).ToListAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Deletes a node; the result is the node as it was, for telling its peers.</summary>
    public Task<StoreResult<Node>> DeleteNodeAsync(long nodeId, CancellationToken cancellationToken = default) =>
        WriteAsync<Node>(
            async (db, ct) =>
            {
                var node = await LoadNodeForUpdateAsync(db, nodeId, ct).ConfigureAwait(false);
                if (node is null)
                {
                    return NoSuchNode(nodeId);
                }

                // Its plain WireGuard peers would be left pointing at a gateway that no longer exists.
                if (await db.Nodes.AnyAsync(n => n.GatewayId == nodeId, ct).ConfigureAwait(false))
                {
                    return StoreFailure.InUse($"{node.Name} still serves plain WireGuard peers; delete them or move them first (trellis nodes list)");
                }

                db.Nodes.Remove(node);
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<Node>.Ok(node);
            },
            cancellationToken);

    /// <summary>
    /// Expires the node key now: the node leaves the mesh and must register again with a new node
    /// key (and an auth key or an admin's approval) to take part again. A key already expired keeps
    /// its moment; a node never let in has no key to expire.
    /// </summary>
    public Task<StoreResult<Node>> ExpireNodeAsync(long nodeId, CancellationToken cancellationToken = default) =>
        UpdateNodeAsync(nodeId, node =>
        {
            if (!node.HasAddresses)
            {
                return StoreFailure.Conflict($"node {node.Name} was never approved, so it has no key to expire; delete it instead (trellis nodes delete {node.Id})");
            }

            var now = Now();
            if (!node.IsExpired(now))
            {
                node.KeyExpiry = now;
            }

            return null;
        }, cancellationToken);

    /// <summary>Gives a node a new name: a DNS label (lowercased) that no other node has.</summary>
    public Task<StoreResult<Node>> RenameNodeAsync(long nodeId, string name, CancellationToken cancellationToken = default)
    {
        var normalized = name?.ToLowerInvariant();
        if (!DnsNames.IsValidLabel(normalized))
        {
            return Task.FromResult<StoreResult<Node>>(StoreFailure.Invalid(
                $"invalid node name '{name}': use 1 to {DnsNames.MaxLabelLength} letters, digits or hyphens, not starting or ending with a hyphen"));
        }

        return WriteAsync<Node>(
            async (db, ct) =>
            {
                var node = await LoadNodeForUpdateAsync(db, nodeId, ct).ConfigureAwait(false);
                if (node is null)
                {
                    return NoSuchNode(nodeId);
                }

                if (await db.Nodes.AnyAsync(n => n.Name == normalized && n.Id != nodeId, ct).ConfigureAwait(false))
                {
                    return StoreFailure.Conflict($"another node is already named '{normalized}'");
                }

                node.Name = normalized;
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<Node>.Ok(node);
            },
            cancellationToken,
            allocates: true);
    }

    /// <summary>
    /// Replaces a node's tags (an admin's act): the node is owned by them from now on, no longer by
    /// its user. Only tags the access policy's tagOwners let an admin apply are accepted.
    /// </summary>
    public Task<StoreResult<Node>> SetNodeTagsAsync(long nodeId, IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        if (!DnsNames.TryNormalizeTags(tags, out var normalized, out var error))
        {
            return Task.FromResult<StoreResult<Node>>(StoreFailure.Invalid(error));
        }

        if (normalized.Count == 0)
        {
            return Task.FromResult<StoreResult<Node>>(StoreFailure.Invalid(
                "give at least one tag: a node is owned by a user or by tags, and tagging cannot hand it back to a user (register it again with that user's auth key)"));
        }

        if (RefusedTag(null, normalized) is { } refused)
        {
            return Task.FromResult<StoreResult<Node>>(StoreFailure.Forbidden(refused));
        }

        return UpdateNodeAsync(nodeId, node =>
        {
            (node.User, node.UserId, node.Tags) = (null, null, normalized);
            ApplyAutoApprovals(node, _options.AutoApprovers);
            return null;
        }, cancellationToken);
    }

    /// <summary>
    /// Lets a pending node in. A node that never had an owner needs one now (a user or tags);
    /// a node that went pending after its key expired keeps its owner unless a new one is given.
    /// A node let in for the first time gets its addresses now.
    /// </summary>
    public async Task<StoreResult<Node>> ApproveNodeAsync(
        long nodeId, string? user = null, IReadOnlyList<string>? tags = null, CancellationToken cancellationToken = default)
    {
        if (!DnsNames.TryNormalizeTags(tags, out var normalizedTags, out var error))
        {
            return StoreFailure.Invalid(error);
        }

        if (user is not null && normalizedTags.Count > 0)
        {
            return StoreFailure.Invalid("a node is owned either by a user or by tags, not both");
        }

        if (RefusedTag(null, normalizedTags) is { } refused)
        {
            return StoreFailure.Forbidden(refused);
        }

        var ula = await GetUlaPrefixAsync(cancellationToken).ConfigureAwait(false);
        return await WriteAsync<Node>(
            async (db, ct) =>
            {
                var node = await LoadNodeForUpdateAsync(db, nodeId, ct).ConfigureAwait(false);
                if (node is null)
                {
                    return NoSuchNode(nodeId);
                }

                if (node.Status != NodeStatus.Pending)
                {
                    return StoreFailure.Conflict($"node {node.Name} is not pending approval");
                }

                if (user is not null)
                {
                    var (owner, failure) = await FindUserAsync(db, user, ct).ConfigureAwait(false);
                    if (failure is not null)
                    {
                        return failure;
                    }

                    (node.User, node.UserId, node.Tags) = (owner, owner!.Id, []);
                }
                else if (normalizedTags.Count > 0)
                {
                    (node.User, node.UserId, node.Tags) = (null, null, normalizedTags);
                }
                else if (node.UserId is null && node.Tags.Count == 0)
                {
                    return StoreFailure.Invalid($"node {node.Name} has no owner yet: approve it for a user or for tags");
                }

                if (!await AssignAddressesAsync(db, node, ula, ct).ConfigureAwait(false))
                {
                    return StoreFailure.Conflict(NoFreeAddress());
                }

                var now = Now();
                node.Status = NodeStatus.Active;
                node.KeyExpiry = NewKeyExpiry(now);
                ApplyAutoApprovals(node, _options.AutoApprovers);
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<Node>.Ok(node);
            },
            cancellationToken,
            allocates: true).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes ephemeral nodes that have been offline for at least <paramref name="offlineFor"/>,
    /// counting from their last sighting (or registration, if never seen) but never from before
    /// <paramref name="watchedSince"/>: while the server was down nobody could see them, so an
    /// outage must not count as their absence. Returns the nodes removed.
    /// </summary>
    public async Task<IReadOnlyList<Node>> DeleteExpiredEphemeralAsync(
        TimeSpan offlineFor, DateTimeOffset? watchedSince = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(offlineFor, TimeSpan.Zero);
        var cutoff = Timestamps.Normalize(Now() - offlineFor);
        if (watchedSince > cutoff)
        {
            return [];
        }

        return await DeleteWhereAsync(n => n.Ephemeral && !n.Online && (n.LastSeen ?? n.CreatedAt) <= cutoff, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes nodes that registered without an auth key and waited longer than
    /// <paramref name="waitedFor"/> without an admin letting them in; returns them. A node that was
    /// once let in (and waits again after its key expired) keeps its place.
    /// </summary>
    public async Task<IReadOnlyList<Node>> DeleteStalePendingAsync(TimeSpan waitedFor, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(waitedFor, TimeSpan.Zero);
        var cutoff = Timestamps.Normalize(Now() - waitedFor);
        return await DeleteWhereAsync(n => n.Status == NodeStatus.Pending && n.IPv4 == null && n.CreatedAt <= cutoff, cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<Node>> DeleteWhereAsync(System.Linq.Expressions.Expression<Func<Node, bool>> stale, CancellationToken cancellationToken)
    {
        var result = await WriteAsync<IReadOnlyList<Node>>(
            async (db, ct) =>
            {
                var nodes = await db.Nodes.Include(n => n.User).Where(stale).OrderBy(n => n.Id).ToListAsync(ct).ConfigureAwait(false);
                db.Nodes.RemoveRange(nodes);
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<IReadOnlyList<Node>>.Ok(nodes);
            },
            cancellationToken).ConfigureAwait(false);
        return result.Value!;
    }

    /// <summary>One node's read-modify-write in its own transaction; <paramref name="change"/> returns a failure or null.</summary>
    private Task<StoreResult<Node>> UpdateNodeAsync(long nodeId, Func<Node, StoreFailure?> change, CancellationToken cancellationToken) =>
        WriteAsync<Node>(
            async (db, ct) =>
            {
                var node = await LoadNodeForUpdateAsync(db, nodeId, ct).ConfigureAwait(false);
                if (node is null)
                {
                    return NoSuchNode(nodeId);
                }

                if (change(node) is { } failure)
                {
                    return failure;
                }

                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<Node>.Ok(node);
            },
            cancellationToken);
}
