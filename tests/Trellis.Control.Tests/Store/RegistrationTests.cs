using System.Net;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

public abstract class RegistrationTests(ITestDatabase database) : StoreTestBase(database)
{
    [Fact]
    public async Task A_good_key_registers_an_active_node_owned_by_the_keys_user()
    {
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice");
        var request = Request(key.Plaintext, "Alice's MacBook.local");

        var node = await RegisterAsync(request);

        Assert.Equal(NodeStatus.Active, node.Status);
        Assert.Equal("alice", node.User?.Name);
        Assert.Empty(node.Tags);
        Assert.Equal("alice-s-macbook", node.Name);
        Assert.Equal(IPAddress.Parse("100.64.0.1"), node.IPv4);
        Assert.True((await Store.GetUlaPrefixAsync()).Contains(node.IPv6!));
        Assert.Equal((request.MachineKey, request.NodeKey, request.DiscoKey), (node.MachineKey, node.NodeKey, node.DiscoKey));
        Assert.Equal(key.Key.Id, node.AuthKeyId);
        Assert.False(node.Ephemeral);
        Assert.Null(node.KeyExpiry);
        Assert.Equal(Start, node.CreatedAt);

        var stored = await Store.GetNodeByMachineKeyAsync(request.MachineKey);
        Assert.Equal(node.Id, stored?.Id);
        Assert.Equal(1, Assert.Single((await Store.ListAuthKeysAsync()).Value!).UseCount);
    }

    [Fact]
    public async Task A_tagged_key_registers_a_node_owned_by_its_tags()
    {
        var key = await CreateKeyAsync(null, ephemeral: true, tags: ["tag:ci"]);

        var node = await RegisterAsync(Request(key.Plaintext, "runner"));

        Assert.Null(node.UserId);
        Assert.Equal(["tag:ci"], node.Tags);
        Assert.True(node.Ephemeral);
    }

    [Fact]
    public async Task An_expired_key_registers_nothing()
    {
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice", expiresAt: Start.AddHours(1));
        Clock.Advance(TimeSpan.FromHours(1));

        Assert.IsType<RegistrationResult.ExpiredKey>(await Store.RegisterNodeAsync(Request(key.Plaintext)));
        Assert.Empty(await AllNodesAsync());
        Assert.Equal(0, Assert.Single((await Store.ListAuthKeysAsync()).Value!).UseCount);
    }

    [Fact]
    public async Task A_revoked_key_registers_nothing()
    {
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice", reusable: true);
        await RegisterAsync(Request(key.Plaintext));
        await Store.ExpireAuthKeyAsync(key.Key.Prefix);

        Assert.IsType<RegistrationResult.ExpiredKey>(await Store.RegisterNodeAsync(Request(key.Plaintext)));
        Assert.Single(await AllNodesAsync());
    }

    [Fact]
    public async Task An_unknown_key_or_a_wrong_secret_registers_nothing()
    {
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice", reusable: true);
        var unknown = $"trellis-auth-{new string('a', 12)}-{new string('b', 52)}";
        var wrongSecret = key.Plaintext[..^1] + (key.Plaintext[^1] == 'a' ? 'b' : 'a');

        Assert.IsType<RegistrationResult.InvalidKey>(await Store.RegisterNodeAsync(Request(unknown)));
        Assert.IsType<RegistrationResult.InvalidKey>(await Store.RegisterNodeAsync(Request(wrongSecret)));
        Assert.Empty(await AllNodesAsync());
        Assert.Equal(0, Assert.Single((await Store.ListAuthKeysAsync()).Value!).UseCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hunter2")]
    [InlineData("trellis-auth-")]
    [InlineData("trellis-auth-aaaaaaaaaaaa")]
    [InlineData("trellis-auth-aaaaaaaaaaaa-bbbb")]
    [InlineData("trellis-auth-AAAAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB")]
    [InlineData("trellis-auth-aaaaaaaaaaa1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")]
    [InlineData("trellis-api-aaaaaaaaaaaa-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")]
    [InlineData("trellis-auth-aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")]
    public async Task A_malformed_key_is_invalid(string authKey)
    {
        var result = await Store.RegisterNodeAsync(Request(authKey));

        Assert.Contains("malformed", Assert.IsType<RegistrationResult.InvalidKey>(result).Reason, StringComparison.Ordinal);
        Assert.Empty(await AllNodesAsync());
    }

    [Fact]
    public async Task A_single_use_key_registers_one_node_only()
    {
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice");
        await RegisterAsync(Request(key.Plaintext));

        Assert.IsType<RegistrationResult.KeyAlreadyUsed>(await Store.RegisterNodeAsync(Request(key.Plaintext)));
        Assert.Single(await AllNodesAsync());
    }

    [Fact]
    public async Task A_reusable_key_registers_many_nodes()
    {
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice", reusable: true);

        for (var i = 0; i < 5; i++)
        {
            await RegisterAsync(Request(key.Plaintext, $"host{i}"));
        }

        Assert.Equal(5, (await AllNodesAsync()).Count);
        Assert.Equal(5, Assert.Single((await Store.ListAuthKeysAsync()).Value!).UseCount);
    }

    [Fact]
    public async Task Without_a_key_the_node_waits_for_an_admin()
    {
        await CreateUserAsync("alice");

        var pending = Assert.IsType<RegistrationResult.Pending>(await Store.RegisterNodeAsync(Request(null, "kiosk"))).Node;
        Assert.Equal(NodeStatus.Pending, pending.Status);
        Assert.Null(pending.UserId);

        Assert.Equal(StoreError.Invalid, (await Store.ApproveNodeAsync(pending.Id)).Error);
        var approved = await Store.ApproveNodeAsync(pending.Id, user: "alice");
        Assert.True(approved.Succeeded, approved.ToString());
        Assert.Equal(NodeStatus.Active, approved.Value.Status);
        Assert.Equal("alice", approved.Value.User?.Name);
        Assert.Equal(StoreError.Conflict, (await Store.ApproveNodeAsync(pending.Id, user: "alice")).Error);
        Assert.Equal(StoreError.NotFound, (await Store.ApproveNodeAsync(pending.Id + 1000, user: "alice")).Error);
    }

    [Fact]
    public async Task Re_registering_a_machine_rotates_its_node_key_and_keeps_the_node()
    {
        var first = await RegisterForAsync("alice");
        var rotated = Request(null) with { MachineKey = first.MachineKey };

        var again = await RegisterAsync(rotated);

        Assert.Equal(first.Id, again.Id);
        Assert.Equal((first.Name, first.IPv4, first.IPv6), (again.Name, again.IPv4, again.IPv6));
        Assert.Equal((rotated.NodeKey, rotated.DiscoKey), (again.NodeKey, again.DiscoKey));
        Assert.Null(await Store.GetNodeByNodeKeyAsync(first.NodeKey));
        Assert.Single(await AllNodesAsync());
    }

    [Fact]
    public async Task An_expired_node_needs_a_key_or_an_admin_to_come_back()
    {
        var node = await RegisterForAsync("alice");
        await Store.ExpireNodeAsync(node.Id);
        Clock.Advance(TimeSpan.FromMinutes(1));

        var withoutKey = await Store.RegisterNodeAsync(Request(null) with { MachineKey = node.MachineKey });
        Assert.Equal(node.Id, Assert.IsType<RegistrationResult.Pending>(withoutKey).Node.Id);

        var key = await CreateKeyAsync("alice");
        var reauthenticated = await RegisterAsync(Request(key.Plaintext) with { MachineKey = node.MachineKey });
        Assert.Equal(node.Id, reauthenticated.Id);
        Assert.False(reauthenticated.IsExpired(Clock.GetUtcNow()));
    }

    [Fact]
    public async Task Approval_of_an_expired_node_keeps_its_owner_and_renews_it()
    {
        var node = await RegisterForAsync("alice");
        await Store.ExpireNodeAsync(node.Id);
        await Store.RegisterNodeAsync(Request(null) with { MachineKey = node.MachineKey });

        var approved = await Store.ApproveNodeAsync(node.Id);

        Assert.True(approved.Succeeded, approved.ToString());
        Assert.Equal("alice", approved.Value.User?.Name);
        Assert.False(approved.Value.IsExpired(Clock.GetUtcNow()));
    }

    [Fact]
    public async Task The_key_lifetime_option_sets_the_node_key_expiry()
    {
        var store = new ControlStore(Database.Factory, Clock, new ControlStoreOptions { NodeKeyLifetime = TimeSpan.FromDays(90) });
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice");

        var result = await store.RegisterNodeAsync(Request(key.Plaintext));

        Assert.Equal(Start.AddDays(90), Assert.IsType<RegistrationResult.Registered>(result).Node.KeyExpiry);
    }

    [Fact]
    public async Task A_node_key_of_another_node_is_rejected()
    {
        var other = await RegisterForAsync("alice");
        var key = await CreateKeyAsync("alice");

        var result = await Store.RegisterNodeAsync(Request(key.Plaintext) with { NodeKey = other.NodeKey });

        Assert.IsType<RegistrationResult.Rejected>(result);
        Assert.Single(await AllNodesAsync());
        Assert.Equal(0, (await Store.ListAuthKeysAsync()).Value!.Single(k => k.Id == key.Key.Id).UseCount);
    }

    [Fact]
    public async Task A_machine_whose_registration_reply_was_lost_registers_again_with_its_single_use_key()
    {
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice");
        var request = Request(key.Plaintext);
        var first = await RegisterAsync(request);

        // The reply never arrived, so the node sends the same request again.
        var again = await RegisterAsync(request);

        Assert.Equal(first.Id, again.Id);
        Assert.Equal((first.Name, first.IPv4, first.IPv6), (again.Name, again.IPv4, again.IPv6));
        Assert.Equal(1, Assert.Single((await Store.ListAuthKeysAsync()).Value!).UseCount);

        // Another machine still finds the key used.
        var other = await Store.RegisterNodeAsync(Request(key.Plaintext));
        Assert.Contains("already used", Assert.IsType<RegistrationResult.KeyAlreadyUsed>(other).Reason, StringComparison.Ordinal);
        Assert.Single(await AllNodesAsync());
    }

    [Fact]
    public async Task A_disco_key_another_node_holds_is_refused_at_registration_and_at_rotation()
    {
        var other = await RegisterForAsync("alice", "other");
        var key = await CreateKeyAsync("alice", reusable: true);

        var copied = await Store.RegisterNodeAsync(Request(key.Plaintext) with { DiscoKey = other.DiscoKey });
        Assert.Contains("disco key belongs to another node", Assert.IsType<RegistrationResult.Rejected>(copied).Reason, StringComparison.Ordinal);

        var node = await RegisterAsync(Request(key.Plaintext, "node"));
        var rotated = await Store.RegisterNodeAsync(Request(null) with { MachineKey = node.MachineKey, DiscoKey = other.DiscoKey });
        Assert.IsType<RegistrationResult.Rejected>(rotated);
        Assert.Equal(node.DiscoKey, (await Store.GetNodeByIdAsync(node.Id))!.DiscoKey);

        // A node keeping its own disco key across a node key rotation is fine.
        Assert.IsType<RegistrationResult.Registered>(await Store.RegisterNodeAsync(Request(null) with { MachineKey = node.MachineKey, DiscoKey = node.DiscoKey }));
        Assert.Equal(2, (await AllNodesAsync()).Count);
    }

    [Fact]
    public async Task An_expired_node_comes_back_only_with_a_new_node_key_and_keeps_its_identity()
    {
        var store = new ControlStore(Database.Factory, Clock, new ControlStoreOptions { NodeKeyLifetime = TimeSpan.FromDays(180) });
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice", reusable: true);
        var request = Request(key.Plaintext);
        var node = Assert.IsType<RegistrationResult.Registered>(await store.RegisterNodeAsync(request)).Node;

        Clock.Advance(TimeSpan.FromDays(180));
        Assert.True((await store.GetNodeByIdAsync(node.Id))!.IsExpired(Clock.GetUtcNow()));

        var sameKey = await store.RegisterNodeAsync(request);
        Assert.Contains("generate a new node key", Assert.IsType<RegistrationResult.NodeKeyExpired>(sameKey).Reason, StringComparison.Ordinal);

        var back = Assert.IsType<RegistrationResult.Registered>(await store.RegisterNodeAsync(request with { NodeKey = NewKey() })).Node;
        Assert.Equal((node.Id, node.Name, node.IPv4, node.IPv6), (back.Id, back.Name, back.IPv4, back.IPv6));
        Assert.Equal(Clock.GetUtcNow().AddDays(180), back.KeyExpiry);
    }

    [Fact]
    public async Task An_expired_node_without_a_key_waits_with_its_new_node_key_and_may_ask_again()
    {
        var node = await RegisterForAsync("alice");
        await Store.ExpireNodeAsync(node.Id);
        var fresh = Request(null) with { MachineKey = node.MachineKey };

        Assert.IsType<RegistrationResult.Pending>(await Store.RegisterNodeAsync(fresh));
        Assert.IsType<RegistrationResult.Pending>(await Store.RegisterNodeAsync(fresh));

        var approved = await Store.ApproveNodeAsync(node.Id);
        Assert.True(approved.Succeeded, approved.ToString());
        Assert.Equal((node.IPv4, node.IPv6, fresh.NodeKey), (approved.Value.IPv4, approved.Value.IPv6, approved.Value.NodeKey));
    }

    [Fact]
    public async Task Bad_requests_are_rejected_without_a_trace()
    {
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice");

        Assert.IsType<RegistrationResult.Rejected>(await Store.RegisterNodeAsync(Request(key.Plaintext) with { NodeKey = default }));
        Assert.IsType<RegistrationResult.Rejected>(await Store.RegisterNodeAsync(Request(key.Plaintext, routes: ["10.0.0.1/8"])));
        Assert.IsType<RegistrationResult.Rejected>(await Store.RegisterNodeAsync(Request(key.Plaintext, routes: ["not a prefix"])));

        Assert.Empty(await AllNodesAsync());
        Assert.Equal(0, Assert.Single((await Store.ListAuthKeysAsync()).Value!).UseCount);
    }

    [Fact]
    public async Task Registration_fails_cleanly_when_the_range_is_full()
    {
        // A /29 holds 8 addresses; minus network, broadcast and .0/.255 rules, 100.64.0.1 to .6 remain.
        var store = new ControlStore(Database.Factory, Clock, new ControlStoreOptions { IPv4Range = IPNetwork.Parse("100.64.0.0/29") });
        await CreateUserAsync("alice");
        var key = await CreateKeyAsync("alice", reusable: true);
        for (var i = 0; i < 6; i++)
        {
            Assert.IsType<RegistrationResult.Registered>(await store.RegisterNodeAsync(Request(key.Plaintext)));
        }

        Assert.IsType<RegistrationResult.Rejected>(await store.RegisterNodeAsync(Request(key.Plaintext)));
        Assert.Equal(6, (await AllNodesAsync()).Count);
        Assert.Equal(6, Assert.Single((await Store.ListAuthKeysAsync()).Value!).UseCount);
    }
}

public sealed class RegistrationTestsOnSqlite(SqliteTestDatabase db) : RegistrationTests(db), IClassFixture<SqliteTestDatabase>;

public sealed class RegistrationTestsOnPostgres(PostgresTestDatabase db) : RegistrationTests(db), IClassFixture<PostgresTestDatabase>;
