using Npgsql;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Control.Replicas;

/// <summary>
/// The running replicas ("Replicas", created by the ReplicaRoster migration): each one's origin
/// and public URL. A replica's row is alive while the replica holds the advisory lock
/// (<see cref="AdvisoryLocks.RosterSpace"/>, row id) on its presence connection; a killed replica's
/// session ends and frees it, which the maintenance lease holder notices (<see cref="TakeDepartedAsync"/>).
/// </summary>
public sealed class ReplicaRoster(NpgsqlDataSource source, ReplicaIdentity self)
{
    /// <summary>
    /// Adds this replica's row and takes its lock, in one transaction: no sweeper ever sees the
    /// row without the lock held.
    /// </summary>
    internal static async Task<int> EnterAsync(NpgsqlConnection presence, string origin, CancellationToken cancellationToken)
    {
        await using var transaction = await presence.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var insert = new NpgsqlCommand("""INSERT INTO "Replicas" ("Origin") VALUES ($1) RETURNING "Id" """, presence, transaction);
        insert.Parameters.AddWithValue(origin);
        var id = (int)(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        await using var hold = new NpgsqlCommand("SELECT pg_advisory_lock($1, $2)", presence, transaction);
        hold.Parameters.AddWithValue(AdvisoryLocks.RosterSpace);
        hold.Parameters.AddWithValue(id);
        await hold.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return id;
    }

    /// <summary>Empties the roster; only a replica that starts alone may, since every other row is then dead.</summary>
    internal static async Task ClearAsync(NpgsqlConnection presence, CancellationToken cancellationToken)
    {
        await using var clear = new NpgsqlCommand("""DELETE FROM "Replicas" """, presence);
        await clear.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records the URL nodes reach this replica at (its configured public URL) and its embedded
    /// relay's public key (null: no relay), once it is listening.
    /// </summary>
    public async Task SetUrlAsync(Uri url, Key? relayKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        await using var command = source.CreateCommand("""UPDATE "Replicas" SET "Url" = $1, "RelayKey" = $2 WHERE "Origin" = $3""");
        command.Parameters.AddWithValue(url.ToString());
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text, Value = relayKey is { } key ? key.ToBase64() : DBNull.Value });
        command.Parameters.AddWithValue(self.Origin);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The replicas alive now (their roster lock held) that have a public URL, oldest first, at most
    /// <see cref="ReplicaUrls.MaxCount"/>. A replica killed a moment ago drops out at once, before
    /// any sweep; one without a configured public URL is never listed. (pg_locks shows the whole
    /// cluster's locks: only this database's count.) A relay key that does not read is left out.
    /// </summary>
    public async Task<IReadOnlyList<LiveReplica>> LiveAsync(CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand("""
            SELECT r."Origin", r."Url", r."RelayKey" FROM "Replicas" r
            WHERE r."Url" IS NOT NULL AND EXISTS (
                SELECT 1 FROM pg_locks l
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND l.classid = ($1)::int::oid AND l.objid = r."Id"::oid)
            ORDER BY r."Id"
            LIMIT $2
            """);
        command.Parameters.AddWithValue(AdvisoryLocks.RosterSpace);
        command.Parameters.AddWithValue(ReplicaUrls.MaxCount);
        var live = new List<LiveReplica>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            Key? relayKey = !reader.IsDBNull(2) && Key.TryParseBase64(reader.GetString(2), out var key) ? key : null;
            live.Add(new LiveReplica(reader.GetString(0), reader.GetString(1), relayKey));
        }

        return live;
    }

    /// <summary>
    /// Finds the replicas that died (their lock is free) and, for each, runs
    /// <paramref name="markOffline"/> with its origin, then removes its row. The lock is taken while
    /// that runs, so two sweepers never clear one replica at once. Returns the origins cleared.
    /// </summary>
    public async Task<IReadOnlyList<string>> TakeDepartedAsync(Func<string, Task> markOffline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(markOffline);
        await using var connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var others = new List<(int Id, string Origin)>();
        await using (var list = new NpgsqlCommand("""SELECT "Id", "Origin" FROM "Replicas" WHERE "Origin" <> $1 ORDER BY "Id" """, connection))
        {
            list.Parameters.AddWithValue(self.Origin);
            await using var reader = await list.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                others.Add((reader.GetInt32(0), reader.GetString(1)));
            }
        }

        var departed = new List<string>();
        foreach (var (id, origin) in others)
        {
            if (!await RosterLockAsync(connection, "SELECT pg_try_advisory_lock($1, $2)", id, cancellationToken).ConfigureAwait(false))
            {
                continue; // alive
            }

            try
            {
                await markOffline(origin).ConfigureAwait(false);
                await using var remove = new NpgsqlCommand("""DELETE FROM "Replicas" WHERE "Id" = $1""", connection);
                remove.Parameters.AddWithValue(id);
                await remove.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                departed.Add(origin);
            }
            finally
            {
                await RosterLockAsync(connection, "SELECT pg_advisory_unlock($1, $2)", id, CancellationToken.None).ConfigureAwait(false);
            }
        }

        return departed;
    }

    private static async Task<bool> RosterLockAsync(NpgsqlConnection connection, string sql, int id, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue(AdvisoryLocks.RosterSpace);
        command.Parameters.AddWithValue(id);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
