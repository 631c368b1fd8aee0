using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Trellis.Control.Store;

/// <summary>
/// Creates contexts for the configured provider (options are built once) and applies that
/// provider's migrations at startup.
/// </summary>
public sealed class TrellisDbContextFactory : IDbContextFactory<TrellisDbContext>
{
    private readonly DbContextOptions<SqliteTrellisDbContext>? _sqlite;
    private readonly DbContextOptions<PostgresTrellisDbContext>? _postgres;

    private TrellisDbContextFactory(DbContextOptions<SqliteTrellisDbContext>? sqlite, DbContextOptions<PostgresTrellisDbContext>? postgres)
    {
        _sqlite = sqlite;
        _postgres = postgres;
    }

    public StoreProvider Provider => _sqlite is not null ? StoreProvider.Sqlite : StoreProvider.Postgres;

    public static TrellisDbContextFactory Sqlite(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new(new DbContextOptionsBuilder<SqliteTrellisDbContext>().UseSqlite(connectionString).Options, null);
    }

    /// <summary>An SQLite database file; writers wait up to 30 s for each other instead of failing.</summary>
    public static TrellisDbContextFactory SqliteFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 };
        return Sqlite(builder.ConnectionString);
    }

    public static TrellisDbContextFactory Postgres(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new(null, new DbContextOptionsBuilder<PostgresTrellisDbContext>().UseNpgsql(connectionString).Options);
    }

    public TrellisDbContext CreateDbContext() =>
        _sqlite is not null ? new SqliteTrellisDbContext(_sqlite) : new PostgresTrellisDbContext(_postgres!);

    /// <summary>Brings the schema up to date (EF takes a lock, so concurrent starts are safe).</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var db = CreateDbContext();
        await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
        if (Provider == StoreProvider.Sqlite)
        {
            // WAL lets the many readers (map building) proceed while one writer commits.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
        }
    }
}
