using Microsoft.Data.Sqlite;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

/// <summary>An SQLite file in the temp directory, as the server would use in its data directory.</summary>
public sealed class SqliteTestDatabase : ITestDatabase, IAsyncLifetime
{
    private readonly string _path = NewPath();

    public StoreProvider Provider => StoreProvider.Sqlite;

    public TrellisDbContextFactory Factory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Factory = TrellisDbContextFactory.SqliteFile(_path);
        await Factory.MigrateAsync();
    }

    public Task DisposeAsync()
    {
        Delete(_path);
        return Task.CompletedTask;
    }

    public Task<ScratchDatabase> CreateScratchAsync()
    {
        var path = NewPath();
        return Task.FromResult(new ScratchDatabase(TrellisDbContextFactory.SqliteFile(path), () =>
        {
            Delete(path);
            return Task.CompletedTask;
        }));
    }

    private static string NewPath() => Path.Combine(Path.GetTempPath(), $"trellis-store-test-{Guid.NewGuid():N}.db");

    private static void Delete(string path)
    {
        // Pooled connections keep the file open; close them before deleting it.
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            File.Delete(file);
        }
    }
}
