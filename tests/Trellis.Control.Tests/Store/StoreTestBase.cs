using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Trellis.Control.Store;
using Trellis.Core.Keys;

namespace Trellis.Control.Tests.Store;

/// <summary>
/// Base of the store tests. Each test class is abstract and has two sealed subclasses, one per
/// provider, so every test runs on SQLite and on PostgreSQL; each test starts with empty tables
/// and a fake clock.
/// </summary>
public abstract class StoreTestBase(ITestDatabase database) : IAsyncLifetime
{
    protected static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    protected ITestDatabase Database { get; } = database;

    protected FakeTimeProvider Clock { get; } = new(Start);

    protected ControlStore Store { get; private set; } = null!;

    protected virtual ControlStoreOptions StoreOptions => new();

    public async Task InitializeAsync()
    {
        await Database.ResetAsync();
        Store = new ControlStore(Database.Factory, Clock, StoreOptions);
        await Store.InitializeAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    protected static Key NewKey() => new(RandomNumberGenerator.GetBytes(Key.Size));

    protected static RegistrationRequest Request(string? authKey, string hostname = "laptop", IReadOnlyList<string>? routes = null) =>
        new(authKey, NewKey(), NewKey(), NewKey(), hostname, routes);

    protected async Task<User> CreateUserAsync(string name)
    {
        var result = await Store.CreateUserAsync(name);
        Assert.True(result.Succeeded, result.ToString());
        return result.Value;
    }

    protected async Task<CreatedAuthKey> CreateKeyAsync(
        string? user, bool reusable = false, bool ephemeral = false, DateTimeOffset? expiresAt = null, IReadOnlyList<string>? tags = null)
    {
        var result = await Store.CreateAuthKeyAsync(user, tags, reusable, ephemeral, expiresAt);
        Assert.True(result.Succeeded, result.ToString());
        return result.Value;
    }

    protected async Task<Node> RegisterAsync(RegistrationRequest request)
    {
        var result = await Store.RegisterNodeAsync(request);
        return Assert.IsType<RegistrationResult.Registered>(result).Node;
    }

    /// <summary>A user with a reusable key, then a node registered with it.</summary>
    protected async Task<Node> RegisterForAsync(string user, string hostname = "laptop", IReadOnlyList<string>? routes = null)
    {
        if (await Store.GetUserAsync(user) is null)
        {
            await CreateUserAsync(user);
        }

        var key = await CreateKeyAsync(user, reusable: true);
        return await RegisterAsync(Request(key.Plaintext, hostname, routes));
    }

    protected async Task<IReadOnlyList<Node>> AllNodesAsync()
    {
        var result = await Store.ListNodesAsync();
        Assert.True(result.Succeeded, result.ToString());
        return result.Value;
    }
}
