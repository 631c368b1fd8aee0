using Npgsql;

namespace Trellis.Control.Replicas;

/// <summary>
/// Whether this replica runs the maintenance that writes (ephemeral and pending clean-up, pruning
/// the change log): the holder of a session-level advisory lock on a connection of its own. When
/// the holder dies its session ends and the lock is free; whoever asks next takes it over.
/// Touched only by the maintenance loop.
/// </summary>
public sealed class MaintenanceLease(string connectionString) : IAsyncDisposable
{
    private NpgsqlConnection? _held;

    /// <summary>True when this replica holds the lease now, taking it if it is free.</summary>
    public async Task<bool> HoldAsync(CancellationToken cancellationToken)
    {
        if (_held is not null)
        {
            try
            {
                await using var check = new NpgsqlCommand("SELECT 1", _held);
                await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // The session (and with it the lock) is gone: ask again like anyone else.
                await _held.DisposeAsync().ConfigureAwait(false);
                _held = null;
            }
        }

        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var take = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
            take.Parameters.AddWithValue(AdvisoryLocks.Maintenance);
            if ((bool)(await take.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                _held = connection;
                return true;
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await connection.DisposeAsync().ConfigureAwait(false);
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (_held is not null)
        {
            await _held.DisposeAsync().ConfigureAwait(false);
            _held = null;
        }
    }
}
