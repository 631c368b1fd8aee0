using Microsoft.EntityFrameworkCore;

namespace Trellis.Control.Store;

// Users.
public sealed partial class ControlStore
{
    public Task<StoreResult<User>> CreateUserAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!DnsNames.TryNormalizeUserName(name, out var normalized, out var error))
        {
            return Task.FromResult<StoreResult<User>>(StoreFailure.Invalid(error));
        }

        return WriteAsync<User>(
            async (db, ct) =>
            {
                if (await db.Users.AnyAsync(u => u.Name == normalized, ct).ConfigureAwait(false))
                {
                    return StoreFailure.Conflict($"user '{normalized}' already exists");
                }

                var user = new User { Name = normalized, CreatedAt = Now() };
                db.Users.Add(user);
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<User>.Ok(user);
            },
            cancellationToken);
    }

    /// <summary>The ids of the user's nodes (none for an unknown user).</summary>
    public async Task<IReadOnlyList<long>> NodeIdsOfUserAsync(long userId, CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.Nodes.Where(n => n.UserId == userId).Select(n => n.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<User>> ListUsersAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.Users.AsNoTracking().OrderBy(u => u.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<User?> GetUserAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!DnsNames.TryNormalizeUserName(name, out var normalized, out _))
        {
            return null;
        }

        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Name == normalized, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a user and their auth keys; refused while the user still owns nodes.</summary>
    public Task<StoreResult> DeleteUserAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!DnsNames.TryNormalizeUserName(name, out var normalized, out var error))
        {
            return Task.FromResult<StoreResult>(StoreFailure.Invalid(error));
        }

        return WriteAsync(
            async (db, ct) =>
            {
                var user = await db.Users.SingleOrDefaultAsync(u => u.Name == normalized, ct).ConfigureAwait(false);
                if (user is null)
                {
                    return StoreFailure.NotFound($"no user '{normalized}'");
                }

                var nodes = await db.Nodes.CountAsync(n => n.UserId == user.Id, ct).ConfigureAwait(false);
                if (nodes > 0)
                {
                    return StoreFailure.InUse($"user '{normalized}' still owns {nodes} node(s); delete them first");
                }

                db.Users.Remove(user);
                try
                {
                    await db.SaveChangesAsync(ct).ConfigureAwait(false);
                }
                catch (DbUpdateException e) when (DatabaseErrors.IsForeignKeyViolation(e))
                {
                    // A node registered for this user between the count and the delete.
                    return StoreFailure.InUse($"user '{normalized}' still owns nodes; delete them first");
                }

                return StoreResult.Ok;
            },
            cancellationToken);
    }

    /// <summary>Resolves a user name inside a transaction, with the failure the caller should return.</summary>
    private static async Task<(User? User, StoreFailure? Failure)> FindUserAsync(TrellisDbContext db, string name, CancellationToken ct)
    {
        if (!DnsNames.TryNormalizeUserName(name, out var normalized, out var error))
        {
            return (null, StoreFailure.Invalid(error));
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Name == normalized, ct).ConfigureAwait(false);
        return user is null ? (null, StoreFailure.NotFound($"no user '{normalized}'")) : (user, null);
    }
}
