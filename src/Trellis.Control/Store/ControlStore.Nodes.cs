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

                db.Nodes.Remove(node);
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<Node>.Ok(node);
            },
            cancellationToken);

    /// <summary>Expires the node key now: the node must re-authenticate to take part again.</summary>
    public Task<StoreResult<Node>> ExpireNodeAsync(long nodeId, CancellationToken cancellationToken = default) =>
        UpdateNodeAsync(nodeId, node =>
        {
            node.KeyExpiry = Now();
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
    /// Lets a pending node in. A node that never had an owner needs one now (a user or tags);
    /// a node that went pending after its key expired keeps its owner unless a new one is given.
    /// </summary>
    public Task<StoreResult<Node>> ApproveNodeAsync(
        long nodeId, string? user = null, IReadOnlyList<string>? tags = null, CancellationToken cancellationToken = default)
    {
        if (!DnsNames.TryNormalizeTags(tags, out var normalizedTags, out var error))
        {
            return Task.FromResult<StoreResult<Node>>(StoreFailure.Invalid(error));
        }

        if (user is not null && normalizedTags.Count > 0)
        {
            return Task.FromResult<StoreResult<Node>>(StoreFailure.Invalid("a node is owned either by a user or by tags, not both"));
        }

        return WriteAsync<Node>(
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

                var now = Now();
                node.Status = NodeStatus.Active;
                node.KeyExpiry = NewKeyExpiry(now);
                ApplyAutoApprovals(node, _options.AutoApprovers);
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<Node>.Ok(node);
            },
            cancellationToken);
    }

    /// <summary>
    /// Removes ephemeral nodes that have been offline for at least <paramref name="offlineFor"/>
    /// (counting from their last sighting, or from registration if never seen); returns them.
    /// </summary>
    public async Task<IReadOnlyList<Node>> DeleteExpiredEphemeralAsync(TimeSpan offlineFor, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(offlineFor, TimeSpan.Zero);
        var result = await WriteAsync<IReadOnlyList<Node>>(
            async (db, ct) =>
            {
                var cutoff = Timestamps.Normalize(Now() - offlineFor);
                var stale = await db.Nodes.Include(n => n.User)
                    .Where(n => n.Ephemeral && !n.Online && (n.LastSeen ?? n.CreatedAt) <= cutoff)
                    .OrderBy(n => n.Id)
                    .ToListAsync(ct).ConfigureAwait(false);
                db.Nodes.RemoveRange(stale);
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<IReadOnlyList<Node>>.Ok(stale);
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
