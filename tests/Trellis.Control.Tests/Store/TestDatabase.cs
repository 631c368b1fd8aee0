using Microsoft.EntityFrameworkCore;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

/// <summary>A migrated database shared by one test class; each test starts from empty tables.</summary>
public interface ITestDatabase
{
    StoreProvider Provider { get; }

    TrellisDbContextFactory Factory { get; }

    /// <summary>Another database of the same kind, empty (not migrated), dropped when disposed.</summary>
    Task<ScratchDatabase> CreateScratchAsync();
}

/// <summary>A throwaway database for tests that need one with nothing in it.</summary>
public sealed class ScratchDatabase(TrellisDbContextFactory factory, Func<Task> drop) : IAsyncDisposable
{
    public TrellisDbContextFactory Factory { get; } = factory;

    public async ValueTask DisposeAsync() => await drop();
}

public static class TestDatabaseExtensions
{
    /// <summary>Deletes every row, children first; the schema stays.</summary>
    public static async Task ResetAsync(this ITestDatabase database)
    {
        await using var db = database.Factory.CreateDbContext();
        await db.Nodes.ExecuteDeleteAsync();
        await db.AuthKeys.ExecuteDeleteAsync();
        await db.ApiKeys.ExecuteDeleteAsync();
        await db.Users.ExecuteDeleteAsync();
        await db.Settings.ExecuteDeleteAsync();
        await db.AccessPolicies.ExecuteDeleteAsync();
    }
}
