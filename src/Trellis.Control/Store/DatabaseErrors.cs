using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Trellis.Control.Store;

/// <summary>Recognises the provider errors the store reacts to, whichever provider raised them.</summary>
internal static class DatabaseErrors
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteConstraint = 19;
    private const int SqliteConstraintForeignKey = 787;
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;

    /// <summary>A conflict that a fresh attempt can resolve: a unique value taken meanwhile, or a lost race.</summary>
    public static bool IsRetryable(Exception e) => Unwrap(e) switch
    {
        SqliteException s => s.SqliteErrorCode is SqliteBusy or SqliteLocked
            || (s.SqliteErrorCode == SqliteConstraint && s.SqliteExtendedErrorCode is SqliteConstraintUnique or SqliteConstraintPrimaryKey),
        PostgresException p => p.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.SerializationFailure
            or PostgresErrorCodes.DeadlockDetected,
        _ => false,
    };

    public static bool IsForeignKeyViolation(Exception e) => Unwrap(e) switch
    {
        SqliteException s => s.SqliteErrorCode == SqliteConstraint && s.SqliteExtendedErrorCode == SqliteConstraintForeignKey,
        PostgresException p => p.SqlState == PostgresErrorCodes.ForeignKeyViolation,
        _ => false,
    };

    /// <summary>
    /// The database failed the request (unreachable, dropped, a broken schema): anything the provider
    /// raised, however EF Core wrapped it. Not the node's fault, and not one to take the server down.
    /// </summary>
    public static bool IsStoreFailure(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Data.Common.DbException or DbUpdateException)
            {
                return true;
            }
        }

        return false;
    }

    private static Exception Unwrap(Exception e) => e is DbUpdateException { InnerException: { } inner } ? inner : e;
}
