using System.Net;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

/// <summary>
/// Registrations racing each other. Each case runs with PostgreSQL's allocation lock on (the
/// default) and off, to show that the conditional claim and the unique constraints hold on
/// their own; SQLite serialises writers either way.
/// </summary>
public abstract class ConcurrentRegistrationTests(ITestDatabase database) : StoreTestBase(database)
{
    private const int Racers = 20;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Twenty_registrations_with_one_single_use_key_let_exactly_one_in(bool serializeAllocations)
    {
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice");
        var store = NewStore(serializeAllocations);

        var results = await RaceAsync(() => store.RegisterNodeAsync(Request(key.Plaintext)));

        Assert.Single(results.OfType<RegistrationResult.Registered>());
        Assert.Equal(Racers - 1, results.OfType<RegistrationResult.KeyAlreadyUsed>().Count());
        Assert.Single(await AllNodesAsync());
        Assert.Equal(1, Assert.Single((await Store.ListAuthKeysAsync()).Value!).UseCount);
    }

    /// <summary>
    /// With one shared key the claims queue on the key's row; with a key each nothing orders the
    /// racers, so on PostgreSQL without the allocation lock they collide on the unique indexes
    /// and retry.
    /// </summary>
    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public async Task Twenty_concurrent_registrations_get_distinct_names_and_addresses(bool sharedKey, bool serializeAllocations)
    {
        await CreateUserAsync("alice");
        var shared = await CreateKeyAsync("alice", reusable: true);
        var keys = new Queue<string>();
        for (var i = 0; i < Racers; i++)
        {
            keys.Enqueue(sharedKey ? shared.Plaintext : (await CreateKeyAsync("alice")).Plaintext);
        }

        var store = NewStore(serializeAllocations);
        var requests = keys.Select(k => Request(k, "laptop")).ToArray();
        var next = -1;

        var results = await RaceAsync(() => store.RegisterNodeAsync(requests[Interlocked.Increment(ref next)]));

        Assert.All(results, r => Assert.IsType<RegistrationResult.Registered>(r));
        var nodes = await AllNodesAsync();
        Assert.Equal(Racers, nodes.Count);
        Assert.Equal(Racers, (await Store.ListAuthKeysAsync()).Value!.Sum(k => k.UseCount));

        // The lowest addresses, each once; IPv6 follows IPv4 inside the deployment's prefix.
        var expected = Enumerable.Range(1, Racers).Select(i => IPAddress.Parse($"100.64.0.{i}"));
        Assert.Equal(expected, nodes.Select(n => n.IPv4!).OrderBy(a => a.GetAddressBytes()[3]));
        var ula = await Store.GetUlaPrefixAsync();
        Assert.All(nodes, n => Assert.True(ula.Contains(n.IPv6!)));
        Assert.Equal(Racers, nodes.Select(n => n.IPv6).Distinct().Count());

        var names = new[] { "laptop" }.Concat(Enumerable.Range(1, Racers - 1).Select(i => $"laptop-{i}"));
        Assert.Equal(names.Order(StringComparer.Ordinal), nodes.Select(n => n.Name).Order(StringComparer.Ordinal));
    }

    private ControlStore NewStore(bool serializeAllocations) =>
        new(Database.Factory, Clock, new ControlStoreOptions { SerializeAllocations = serializeAllocations, MaxWriteAttempts = 64 });

    /// <summary>Starts all racers together on the thread pool and waits for every one.</summary>
    private static async Task<RegistrationResult[]> RaceAsync(Func<Task<RegistrationResult>> register)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var racers = Enumerable.Range(0, Racers).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return await register();
        })).ToArray();
        start.SetResult();
        return await Task.WhenAll(racers);
    }
}

public sealed class ConcurrentRegistrationTestsOnSqlite(SqliteTestDatabase db)
    : ConcurrentRegistrationTests(db), IClassFixture<SqliteTestDatabase>;

public sealed class ConcurrentRegistrationTestsOnPostgres(PostgresTestDatabase db)
    : ConcurrentRegistrationTests(db), IClassFixture<PostgresTestDatabase>;
