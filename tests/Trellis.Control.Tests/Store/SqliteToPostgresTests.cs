using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Trellis.Control.Store;
using Trellis.Control.Tests.NodeProtocol;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Control.Tests.Store;

/// <summary>`trellis server migrate-to-postgres`: a deployment's SQLite file moved to PostgreSQL, served from there.</summary>
public sealed class SqliteToPostgresTests : IAsyncLifetime
{
    private const string AllowAll = """{ "acls": [{ "action": "accept", "src": ["*"], "dst": ["*:*"] }] }""";

    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-move-").FullName;
    private string _postgres = null!;
    private Func<Task> _drop = null!;

    public async Task InitializeAsync() => (_postgres, _drop) = await PostgresTestDatabase.CreateEmptyAsync();

    public async Task DisposeAsync()
    {
        await _drop();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static Key PublicKey() => X25519.PublicKey(X25519.GeneratePrivateKey());

    [Fact]
    public async Task A_deployment_moved_to_PostgreSQL_keeps_its_nodes_keys_and_policy_and_a_second_move_is_refused()
    {
        // A deployment as a single SQLite server leaves it: users, tagged nodes with routes, a
        // pending node, auth and API keys, a policy, and the generated IPv6 prefix.
        var sqlite = TrellisDbContextFactory.SqliteFile(Path.Combine(_dir, "trellis.db"));
        await sqlite.MigrateAsync();
        var before = new ControlStore(sqlite, TimeProvider.System);
        await before.InitializeAsync();
        Assert.True((await before.CreateUserAsync("alice")).Succeeded);
        Assert.True((await before.CreateUserAsync("bob")).Succeeded);
        var reusable = (await before.CreateAuthKeyAsync("alice", null, reusable: true, ephemeral: false, expiresAt: null)).Value!;
        var single = (await before.CreateAuthKeyAsync(null, ["tag:server"], reusable: false, ephemeral: false, expiresAt: null)).Value!;
        var router = Assert.IsType<RegistrationResult.Registered>(await before.RegisterNodeAsync(
            new(reusable.Plaintext, PublicKey(), PublicKey(), PublicKey(), "router", ["10.20.0.0/16"]))).Node;
        Assert.True((await before.ApproveRoutesAsync(router.Id, ["10.20.0.0/16"])).Succeeded);
        Assert.True((await before.SetNodeTagsAsync(router.Id, ["tag:router"])).Succeeded);
        Assert.IsType<RegistrationResult.Registered>(await before.RegisterNodeAsync(new(single.Plaintext, PublicKey(), PublicKey(), PublicKey(), "db")));
        Assert.IsType<RegistrationResult.Pending>(await before.RegisterNodeAsync(new(null, PublicKey(), PublicKey(), PublicKey(), "waiting")));
        var apiKey = (await before.CreateApiKeyAsync()).Value!;
        await before.SetPolicyAsync(AllowAll, "a test");
        var nodes = (await before.ListNodesAsync()).Value!;
        var ula = await before.GetUlaPrefixAsync();

        var copied = await SqliteToPostgres.CopyAsync(sqlite, TrellisDbContextFactory.Postgres(_postgres));
        (string, int)[] expected = [("users", 2), ("auth keys", 2), ("nodes", 3), ("API keys", 1), ("settings", 1), ("access policies", 1)];
        Assert.Equal(expected, copied);

        // A server on PostgreSQL serves the same nodes, keys and policy.
        await using (var server = await ControlServerFixture.StartAsync(o => o with { Database = _postgres }))
        {
            var after = server.Store;
            Assert.Equal(Describe(nodes), Describe((await after.ListNodesAsync()).Value!));
            Assert.Equal(ula, await after.GetUlaPrefixAsync());
            Assert.True(await after.ValidateApiKeyAsync(apiKey.Plaintext));
            Assert.Equal(AllowAll, server.Host.Policy.Current.Text);
            Assert.Equal("alice bob", string.Join(' ', (await after.ListUsersAsync()).Select(u => u.Name).Order()));

            // The copied reusable key registers a new node, whose id comes after the copied ones
            // (the sequences were advanced), and its map holds the copied active nodes.
            var newcomer = new SimulatedNode(server.Url, "newcomer");
            await using (newcomer)
            {
                await newcomer.ConnectAsync();
                Assert.Equal(RegisterStatus.Active, (await newcomer.RegisterAsync(reusable.Plaintext)).Status);
                await newcomer.StartMapAsync("198.51.100.9:41641");
                await SimulatedNode.WaitAsync(() => newcomer.Peers.Count == 2, "the newcomer's map with the two copied active nodes");
                Assert.True(newcomer.Self!.Id > nodes.Max(n => n.Id));
                Assert.Equal(router.IPv4!.ToString(), newcomer.Peers[router.Id].Addresses[0].Split('/')[0]);
            }

            // The single-use key was used before the move and stays used after it.
            var late = new SimulatedNode(server.Url, "late");
            await using (late)
            {
                await late.ConnectAsync();
                Assert.NotEqual(RegisterStatus.Active, (await late.RegisterAsync(single.Plaintext)).Status);
            }
        }

        // A second run finds the target in use and writes nothing.
        var refused = await Assert.ThrowsAsync<StoreMoveRefusedException>(
            () => SqliteToPostgres.CopyAsync(sqlite, TrellisDbContextFactory.Postgres(_postgres)));
        Assert.Contains("not empty (users: 2, auth keys: 2, nodes: 4,", refused.Message, StringComparison.Ordinal);
        await using var target = TrellisDbContextFactory.Postgres(_postgres).CreateDbContext();
        Assert.Equal(4, await target.Nodes.CountAsync());
    }

    private static List<string> Describe(IEnumerable<Node> nodes) => nodes.OrderBy(n => n.Id).Select(n => string.Join(
        " | ",
        n.Id, n.Name, n.UserId, n.MachineKey, n.NodeKey, n.DiscoKey, n.IPv4, n.IPv6, n.Status, n.AuthKeyId, n.Ephemeral,
        string.Join(',', n.Tags), string.Join(',', n.AdvertisedRoutes), string.Join(',', n.ApprovedRoutes),
        n.CreatedAt.ToUnixTimeMilliseconds(), n.KeyExpiry?.ToUnixTimeMilliseconds())).ToList();
}
