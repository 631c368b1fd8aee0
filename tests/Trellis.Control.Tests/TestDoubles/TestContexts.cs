using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.TestDoubles;

/// <summary>
/// The store's SQLite file as the server opens it, with two levers for tests: every context can be
/// made to fail (a full disk), and one chosen statement can be held after it ran (a race forced).
/// </summary>
internal sealed class TestContexts : IDbContextFactory<TrellisDbContext>
{
    private readonly DbContextOptions<SqliteTrellisDbContext> _options;

    /// <param name="busySeconds">How long a statement waits for SQLite's write lock before it fails as busy (the server's: 30).</param>
    public TestContexts(string path, int busySeconds = 30)
    {
        var connection = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = busySeconds }.ConnectionString;
        _options = new DbContextOptionsBuilder<SqliteTrellisDbContext>().UseSqlite(connection).AddInterceptors(Hold).Options;
    }

    private volatile bool _failing;

    /// <summary>While set, opening a context fails as SQLite does when the disk is full.</summary>
    public bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    public StatementHold Hold { get; } = new();

    public TrellisDbContext CreateDbContext() =>
        _failing ? throw new SqliteException("database or disk is full", 13) : new SqliteTrellisDbContext(_options);
}

/// <summary>Holds the first statement that matches, once it has run, until the test lets it go.</summary>
internal sealed class StatementHold : DbCommandInterceptor
{
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<string, bool>? _match;

    /// <summary>Completes when a matching statement has run and is being held.</summary>
    public Task Held => _held.Task.WaitAsync(TimeSpan.FromSeconds(30));

    public void Arm(Func<string, bool> match) => Volatile.Write(ref _match, match);

    public void Release() => _released.TrySetResult();

    public override async ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        var match = Volatile.Read(ref _match);
        if (match is not null && match(command.CommandText) && Interlocked.CompareExchange(ref _match, null, match) == match)
        {
            _held.TrySetResult();
            await _released.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }

        return result;
    }
}
