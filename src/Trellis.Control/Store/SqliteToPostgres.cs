using System.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Trellis.Control.Store;

/// <summary>
/// Moves a deployment from its SQLite file to an empty PostgreSQL database (`trellis server
/// migrate-to-postgres`): both schemas are brought up to date, every table is read in one SQLite
/// snapshot and written in one PostgreSQL transaction with its ids kept, the identity sequences
/// are advanced past the copied ids, and the row counts are compared before the commit. A target
/// that already holds anything is refused before a row is written.
/// </summary>
public static class SqliteToPostgres
{
    /// <summary>The copied tables, parents first; their names are the model's.</summary>
    private static readonly string[] Tables = ["Users", "AuthKeys", "Nodes", "ApiKeys", "Settings", "AccessPolicies"];

    private const string LockTables =
        """LOCK TABLE "Users", "AuthKeys", "Nodes", "ApiKeys", "Settings", "AccessPolicies" IN EXCLUSIVE MODE""";

    /// <summary>Each identity column's next value, past the largest copied id.</summary>
    private const string AdvanceSequences = """
        SELECT setval(pg_get_serial_sequence('"Users"', 'Id'), coalesce((SELECT max("Id") FROM "Users"), 0) + 1, false);
        SELECT setval(pg_get_serial_sequence('"AuthKeys"', 'Id'), coalesce((SELECT max("Id") FROM "AuthKeys"), 0) + 1, false);
        SELECT setval(pg_get_serial_sequence('"Nodes"', 'Id'), coalesce((SELECT max("Id") FROM "Nodes"), 0) + 1, false);
        SELECT setval(pg_get_serial_sequence('"ApiKeys"', 'Id'), coalesce((SELECT max("Id") FROM "ApiKeys"), 0) + 1, false);
        """;

    /// <summary>Copies everything; returns how many rows of each table were copied, in <see cref="Tables"/> order.</summary>
    /// <exception cref="StoreMoveRefusedException">The target holds data, or the copy did not verify.</exception>
    public static async Task<IReadOnlyList<(string Table, int Rows)>> CopyAsync(
        TrellisDbContextFactory sqlite, TrellisDbContextFactory postgres, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sqlite);
        ArgumentNullException.ThrowIfNull(postgres);
        if (sqlite.Provider != StoreProvider.Sqlite || postgres.Provider != StoreProvider.Postgres)
        {
            throw new ArgumentException("the source must be SQLite and the target PostgreSQL");
        }

        // An older file is upgraded first (and backed up beside itself, as a server start does).
        await sqlite.MigrateAsync(cancellationToken).ConfigureAwait(false);
        await postgres.MigrateAsync(cancellationToken).ConfigureAwait(false);

        await using var source = sqlite.CreateDbContext();
        await using var snapshot = await source.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var users = await source.Users.AsNoTracking().OrderBy(u => u.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        var authKeys = await source.AuthKeys.AsNoTracking().OrderBy(k => k.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        var nodes = await source.Nodes.AsNoTracking().OrderBy(n => n.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        var apiKeys = await source.ApiKeys.AsNoTracking().OrderBy(k => k.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
        var settings = await source.Settings.AsNoTracking().OrderBy(s => s.Key).ToListAsync(cancellationToken).ConfigureAwait(false);
        var policies = await source.AccessPolicies.AsNoTracking().ToListAsync(cancellationToken).ConfigureAwait(false);
        int[] expected = [users.Count, authKeys.Count, nodes.Count, apiKeys.Count, settings.Count, policies.Count];

        await using var target = postgres.CreateDbContext();
        await using var write = await target.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);

        // Held to the commit: a server started on the target meanwhile cannot write between the
        // emptiness check and the copy.
        await target.Database.ExecuteSqlRawAsync(LockTables, cancellationToken).ConfigureAwait(false);
        var held = await CountAsync(target, cancellationToken).ConfigureAwait(false);
        if (held.Any(c => c > 0))
        {
            var what = string.Join(", ", Tables.Zip(held).Where(t => t.Second > 0).Select(t => $"{Noun(t.First)}: {t.Second}"));
            throw new StoreMoveRefusedException(
                $"the PostgreSQL database is not empty ({what}); nothing was copied. Migrate into a new, empty database (CREATE DATABASE ...), " +
                "or drop this one if it holds nothing you need");
        }

        target.Users.AddRange(users);
        target.AuthKeys.AddRange(authKeys);
        target.Nodes.AddRange(nodes);
        target.ApiKeys.AddRange(apiKeys);
        target.Settings.AddRange(settings);
        target.AccessPolicies.AddRange(policies);
        await target.SaveChangesAsync(cancellationToken).ConfigureAwait(false);

        // Explicit ids do not move an identity's sequence: without this the next insert would
        // be given id 1 and collide.
        await target.Database.ExecuteSqlRawAsync(AdvanceSequences, cancellationToken).ConfigureAwait(false);

        var copied = await CountAsync(target, cancellationToken).ConfigureAwait(false);
        if (!copied.SequenceEqual(expected))
        {
            throw new StoreMoveRefusedException(
                $"the copy did not verify (SQLite {string.Join('/', expected)} rows, PostgreSQL {string.Join('/', copied)} in {string.Join('/', Tables)}); nothing was committed");
        }

        await write.CommitAsync(cancellationToken).ConfigureAwait(false);
        return Tables.Zip(expected).Select(t => (Noun(t.First), t.Second)).ToList();
    }

    /// <summary>
    /// A PostgreSQL connection string from a file or the environment, checked before anything is
    /// opened; the message never repeats it (it may hold a password).
    /// </summary>
    public static string ValidConnectionString(string text, string source)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            throw new StoreMoveRefusedException($"{source} is empty; it must hold a PostgreSQL connection string such as Host=db;Username=trellis;Password=...;Database=trellis");
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(trimmed);
            if (string.IsNullOrEmpty(builder.Database))
            {
                throw new StoreMoveRefusedException($"the connection string in {source} names no database (Database=...)");
            }
        }
        catch (ArgumentException)
        {
            throw new StoreMoveRefusedException($"{source} does not hold a PostgreSQL connection string (Host=...;Username=...;Password=...;Database=...)");
        }

        return trimmed;
    }

    /// <summary>Where a connection string points, without its password: "PostgreSQL database trellis on db".</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"PostgreSQL database {builder.Database} on {builder.Host}";
    }

    private static async Task<int[]> CountAsync(TrellisDbContext db, CancellationToken ct) =>
    [
        await db.Users.CountAsync(ct).ConfigureAwait(false),
        await db.AuthKeys.CountAsync(ct).ConfigureAwait(false),
        await db.Nodes.CountAsync(ct).ConfigureAwait(false),
        await db.ApiKeys.CountAsync(ct).ConfigureAwait(false),
        await db.Settings.CountAsync(ct).ConfigureAwait(false),
        await db.AccessPolicies.CountAsync(ct).ConfigureAwait(false),
    ];

    private static string Noun(string table) => table switch
    {
        "Users" => "users",
        "AuthKeys" => "auth keys",
        "Nodes" => "nodes",
        "ApiKeys" => "API keys",
        "Settings" => "settings",
        _ => "access policies",
    };
}
