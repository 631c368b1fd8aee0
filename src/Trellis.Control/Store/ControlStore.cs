using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;

namespace Trellis.Control.Store;

/// <summary>
/// The control server's state: users, auth keys, nodes, routes, API keys. Every write is one
/// transaction that either completes or leaves nothing behind; expected failures come back as
/// <see cref="StoreResult"/> values. Methods are split by role across the partial files.
/// </summary>
public sealed partial class ControlStore
{
    // Any constant works: it only has to be the same for every server sharing the database.
    private const long AllocationLockId = 0x7472656c6c6973;

    private readonly IDbContextFactory<TrellisDbContext> _contexts;
    private readonly TimeProvider _time;
    private readonly ControlStoreOptions _options;

    // Immutable once stored, so it is read (or generated) once per process. Boxed so that
    // readers on other threads see either nothing or the whole value.
    private volatile StrongBox<IPNetwork>? _ulaPrefix;

    public ControlStore(IDbContextFactory<TrellisDbContext> contexts, TimeProvider time, ControlStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        ArgumentNullException.ThrowIfNull(time);
        _contexts = contexts;
        _time = time;
        _options = options ?? new ControlStoreOptions();
        if (!OverlayAddresses.IsUsableIPv4Range(_options.IPv4Range))
        {
            throw new ArgumentException($"the IPv4 overlay range must be IPv4 and /30 or larger, got {_options.IPv4Range}", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxWriteAttempts, 1, nameof(options));
    }

    public ControlStoreOptions Options => _options;

    /// <summary>Prepares deployment settings (the IPv6 ULA prefix); call once after migrating.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken = default) =>
        await GetUlaPrefixAsync(cancellationToken).ConfigureAwait(false);

    private DateTimeOffset Now() => Timestamps.Normalize(_time.GetUtcNow());

    private DateTimeOffset? NewKeyExpiry(DateTimeOffset now) =>
        _options.NodeKeyLifetime is { } lifetime ? Timestamps.Normalize(now + lifetime) : null;

    private Task<StoreResult<T>> WriteAsync<T>(Func<TrellisDbContext, CancellationToken, Task<StoreResult<T>>> body, CancellationToken ct, bool allocates = false) =>
        WriteAsync(body, r => r.Succeeded, allocates, ct);

    private Task<StoreResult> WriteAsync(Func<TrellisDbContext, CancellationToken, Task<StoreResult>> body, CancellationToken ct) =>
        WriteAsync(body, r => r.Succeeded, allocates: false, ct);

    /// <summary>
    /// Runs <paramref name="body"/> in a transaction, commits only if <paramref name="commit"/>
    /// approves the result, and starts over in a fresh transaction when a unique constraint or a
    /// lost race interrupts it (the backstop behind allocation and claims).
    /// </summary>
    private Task<T> WriteAsync<T>(Func<TrellisDbContext, CancellationToken, Task<T>> body, Func<T, bool> commit, bool allocates, CancellationToken ct) =>
        RetryingAsync(() => WriteOnceAsync(body, commit, allocates, ct), ct);

    /// <summary>
    /// Runs one write, and again when a unique constraint, a lost race or a busy database interrupts it,
    /// up to <see cref="ControlStoreOptions.MaxWriteAttempts"/> times. SQLite lets one writer in at a time
    /// and the others poll for their turn, so under a burst of writes (a join storm) one of them can
    /// poll for its whole timeout and fail as busy; a fresh attempt then gets its turn.
    /// </summary>
    private async Task<T> RetryingAsync<T>(Func<Task<T>> once, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await once().ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < _options.MaxWriteAttempts && DatabaseErrors.IsRetryable(e))
            {
            }

            // Jitter so racing writers stop colliding in lockstep. Real time, not _time: a test's
            // fake clock would never let this delay finish.
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 * attempt)), ct).ConfigureAwait(false);
        }
    }

    private async Task<T> WriteOnceAsync<T>(Func<TrellisDbContext, CancellationToken, Task<T>> body, Func<T, bool> commit, bool allocates, CancellationToken ct)
    {
        await using var db = await _contexts.CreateDbContextAsync(ct).ConfigureAwait(false);

        // SQLite: BEGIN IMMEDIATE, so the whole transaction holds the single write lock.
        // PostgreSQL: READ COMMITTED; conditional updates, row locks and the allocation lock order writers.
        await using var tx = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        if (allocates && _options.SerializeAllocations && db.Provider == StoreProvider.Postgres)
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AllocationLockId})", ct).ConfigureAwait(false);
        }

        var result = await body(db, ct).ConfigureAwait(false);
        if (commit(result))
        {
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>
    /// Makes a read-modify-write of one node safe on PostgreSQL: concurrent writers of the same
    /// row queue here, and READ COMMITTED then reads the row as the previous writer left it.
    /// SQLite needs nothing: its transaction already holds the database's write lock.
    /// </summary>
    private static async Task LockNodeAsync(TrellisDbContext db, long nodeId, CancellationToken ct)
    {
        if (db.Provider == StoreProvider.Postgres)
        {
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM \"Nodes\" WHERE \"Id\" = {nodeId} FOR UPDATE", ct).ConfigureAwait(false);
        }
    }

    /// <summary>Loads a node for update, owner included, after taking its row lock.</summary>
    private static async Task<Node?> LoadNodeForUpdateAsync(TrellisDbContext db, long nodeId, CancellationToken ct)
    {
        await LockNodeAsync(db, nodeId, ct).ConfigureAwait(false);
        return await db.Nodes.Include(n => n.User).SingleOrDefaultAsync(n => n.Id == nodeId, ct).ConfigureAwait(false);
    }

    private static StoreFailure NoSuchNode(long nodeId) => StoreFailure.NotFound($"no node with id {nodeId}");
}
