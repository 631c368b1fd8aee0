using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Trellis.Control.Store;

/// <summary>
/// Creates contexts for the configured provider (options are built once) and applies that
/// provider's migrations at startup: an SQLite file is backed up beside itself before any
/// migration changes it, and one that is not a database is named in a plain error.
/// </summary>
public sealed class TrellisDbContextFactory : IDbContextFactory<TrellisDbContext>
{
    private const int SqliteCorrupt = 11;
    private const int SqliteCantOpen = 14;
    private const int SqliteNotADatabase = 26;

    private readonly DbContextOptions<SqliteTrellisDbContext>? _sqlite;
    private readonly DbContextOptions<PostgresTrellisDbContext>? _postgres;

    // The SQLite file, when the database is one (null for in-memory and PostgreSQL).
    private readonly string? _sqlitePath;
    private readonly TimeProvider _time;

    private TrellisDbContextFactory(
        DbContextOptions<SqliteTrellisDbContext>? sqlite, DbContextOptions<PostgresTrellisDbContext>? postgres, string? sqlitePath = null, TimeProvider? time = null)
    {
        _sqlite = sqlite;
        _postgres = postgres;
        _sqlitePath = sqlitePath;
        _time = time ?? TimeProvider.System;
    }

    public StoreProvider Provider => _sqlite is not null ? StoreProvider.Sqlite : StoreProvider.Postgres;

    public static TrellisDbContextFactory Sqlite(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new(new DbContextOptionsBuilder<SqliteTrellisDbContext>().UseSqlite(connectionString).Options, null);
    }

    /// <summary>
    /// An SQLite database file; writers wait up to 30 s for each other instead of failing.
    /// <paramref name="time"/> stamps the names of backups taken before migrations.
    /// </summary>
    public static TrellisDbContextFactory SqliteFile(string path, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 };
        return new(new DbContextOptionsBuilder<SqliteTrellisDbContext>().UseSqlite(builder.ConnectionString).Options, null, Path.GetFullPath(path), time);
    }

    public static TrellisDbContextFactory Postgres(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new(null, new DbContextOptionsBuilder<PostgresTrellisDbContext>().UseNpgsql(connectionString).Options);
    }

    public TrellisDbContext CreateDbContext() =>
        _sqlite is not null ? new SqliteTrellisDbContext(_sqlite) : new PostgresTrellisDbContext(_postgres!);

    /// <summary>
    /// Brings the schema up to date (EF takes a lock, so concurrent starts are safe). An SQLite file
    /// that holds data and has migrations to apply is first copied to
    /// "{file}.bak-{its current migration}-{UTC time}" beside it.
    /// </summary>
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var db = CreateDbContext();
        try
        {
            if (_sqlitePath is not null)
            {
                await BackUpBeforeMigratingAsync(db, _sqlitePath, cancellationToken).ConfigureAwait(false);
            }

            await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
            if (Provider == StoreProvider.Sqlite)
            {
                // WAL lets the many readers (map building) proceed while one writer commits.
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SqliteException e) when (_sqlitePath is not null && e.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            throw new DatabaseUnusableException(
                $"the database {_sqlitePath} is not a readable SQLite database ({e.Message.TrimEnd('.')}); restore it from a backup ({Path.GetFileName(_sqlitePath)}.bak-* beside it), or move it away to start with an empty one",
                e);
        }
        catch (SqliteException e) when (_sqlitePath is not null && e.SqliteErrorCode == SqliteCantOpen)
        {
            throw new DatabaseUnusableException(
                $"cannot open the database {_sqlitePath}: check that its directory exists and that the server's user may read and write both",
                e);
        }
    }

    private async Task BackUpBeforeMigratingAsync(TrellisDbContext db, string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return;
        }

        var applied = (await db.Database.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false)).ToList();
        var pending = await db.Database.GetPendingMigrationsAsync(cancellationToken).ConfigureAwait(false);
        if (applied.Count == 0 || !pending.Any())
        {
            return; // a new database has nothing to lose; an up-to-date one is not changed
        }

        var stamp = _time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var backup = $"{path}.bak-{applied[^1]}-{stamp}";

        // SQLite's online backup, not a file copy: it includes what still sits in the WAL file.
        await using (var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = backup, Pooling = false }.ConnectionString))
        {
            await target.OpenAsync(cancellationToken).ConfigureAwait(false);
            var source = (SqliteConnection)db.Database.GetDbConnection();
            await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                source.BackupDatabase(target);
            }
            finally
            {
                await db.Database.CloseConnectionAsync().ConfigureAwait(false);
            }
        }

        // The backup holds the same secrets' hashes as the database: give it the same permissions.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(backup, File.GetUnixFileMode(path));
        }
    }
}
