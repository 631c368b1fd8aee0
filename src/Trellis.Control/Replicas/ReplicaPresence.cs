using Npgsql;

namespace Trellis.Control.Replicas;

/// <summary>
/// Tells a starting replica whether others are running, and tells the others when it dies. Every
/// running replica holds the presence lock shared for its lifetime (on a connection of its own, so
/// a killed replica lets go). One that gets it exclusively is alone, and may clear what the last
/// run left (every node marked offline, the roster emptied) before sharing it; one that starts
/// beside others waits for that and clears nothing. On the same connection each replica adds its
/// row to the <see cref="ReplicaRoster"/> and holds the lock named by the row's id.
/// </summary>
public sealed class ReplicaPresence : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;

    private ReplicaPresence(NpgsqlConnection connection, int rosterId)
    {
        _connection = connection;
        RosterId = rosterId;
    }

    /// <summary>This replica's row in the roster.</summary>
    public int RosterId { get; }

    /// <summary>
    /// Joins the replicas. <paramref name="whenAlone"/> runs only when no other replica is present,
    /// while the lock keeps any other from starting.
    /// </summary>
    public static async Task<ReplicaPresence> JoinAsync(string connectionString, string origin, Func<Task> whenAlone, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (await LockAsync(connection, "SELECT pg_try_advisory_lock($1)", cancellationToken).ConfigureAwait(false))
            {
                await whenAlone().ConfigureAwait(false);
                await ReplicaRoster.ClearAsync(connection, cancellationToken).ConfigureAwait(false);
                await LockAsync(connection, "SELECT pg_advisory_unlock($1)", cancellationToken).ConfigureAwait(false);
            }

            await LockAsync(connection, "SELECT pg_advisory_lock_shared($1)::text IS NOT NULL", cancellationToken).ConfigureAwait(false);
            var rosterId = await ReplicaRoster.EnterAsync(connection, origin, cancellationToken).ConfigureAwait(false);
            return new ReplicaPresence(connection, rosterId);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<bool> LockAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue(AdvisoryLocks.Presence);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
