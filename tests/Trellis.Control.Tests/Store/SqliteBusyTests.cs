using Microsoft.Data.Sqlite;
using Trellis.Control.Store;
using Trellis.Control.Tests.TestDoubles;
using Trellis.Core.Keys;

namespace Trellis.Control.Tests.Store;

/// <summary>
/// SQLite lets one writer in at a time. During a join storm a node's report (endpoints, online) could
/// wait out its whole busy timeout behind other writes and fail as "database is locked", which closed
/// that node's connection; it is now tried again, as every other write of the store already was.
/// </summary>
public sealed class SqliteBusyTests : IDisposable
{
    private const int BusySeconds = 1;

    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-busy-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_node_going_online_while_a_registration_holds_the_database_past_the_busy_timeout_is_recorded_once_it_is_free()
    {
        var path = Path.Combine(_dir, "trellis.db");
        await TrellisDbContextFactory.SqliteFile(path).MigrateAsync();
        var contexts = new TestContexts(path, BusySeconds);
        var store = new ControlStore(contexts, TimeProvider.System);
        await store.InitializeAsync();
        await store.CreateUserAsync("alice");
        var key = (await store.CreateAuthKeyAsync("alice", null, reusable: true, ephemeral: false, expiresAt: null)).Value!.Plaintext;
        var node = Assert.IsType<RegistrationResult.Registered>(await store.RegisterNodeAsync(Request(key))).Node;

        // A second registration claims the key (an UPDATE inside its transaction) and is held there, write lock taken.
        contexts.Hold.Arm(sql => sql.StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase) && sql.Contains("\"UseCount\"", StringComparison.Ordinal));
        var registration = store.RegisterNodeAsync(Request(key, "desktop"));
        await contexts.Hold.Held;

        var online = store.SetOnlineAsync(node.Id, true);
        // Past the busy timeout (three of them), so the first try has given up before the lock is let go.
        await Task.WhenAny(online, Task.Delay(TimeSpan.FromSeconds(3 * BusySeconds)));
        contexts.Hold.Release();

        Assert.True((await online).Succeeded);
        Assert.IsType<RegistrationResult.Registered>(await registration);
        Assert.True((await store.GetNodeByIdAsync(node.Id))!.Online);
    }

    private static RegistrationRequest Request(string authKey, string hostname = "laptop") =>
        new(authKey, NewKey(), NewKey(), NewKey(), hostname, null);

    private static Key NewKey() => new(System.Security.Cryptography.RandomNumberGenerator.GetBytes(Key.Size));
}
