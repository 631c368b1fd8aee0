using System.Net;
using Trellis.Control.Store;
using Trellis.Control.Tests.TestDoubles;

namespace Trellis.Control.Tests.Store;

/// <summary>The policy text in the database, and what the policy in force lets the store do with tags and routes.</summary>
public abstract class PolicyStoreTests(ITestDatabase database) : StoreTestBase(database)
{
    private const string PolicyText = """
        // who may reach whom
        {
          "acls": [{"src": "alice", "dst": "tag:server"},], // trailing comma kept
        }
        """;

    private static GrantPolicy Owning(string tag, params string[] owners) =>
        new([], new Dictionary<string, IReadOnlyList<string>> { [tag] = owners });

    [Fact]
    public async Task The_policy_text_is_kept_exactly_with_who_set_it_and_when()
    {
        Assert.Null(await Store.GetPolicyAsync());

        await Store.SetPolicyAsync(PolicyText, "API key abcd1234");
        Clock.Advance(TimeSpan.FromMinutes(5));
        await Store.SetPolicyAsync(PolicyText + "\n", "the local admin socket");

        var stored = await Store.GetPolicyAsync();
        Assert.Equal(PolicyText + "\n", stored!.Text);
        Assert.Equal("the local admin socket", stored.UpdatedBy);
        Assert.Equal(Start + TimeSpan.FromMinutes(5), stored.UpdatedAt);

        Assert.True(await Store.DeletePolicyAsync());
        Assert.Null(await Store.GetPolicyAsync());
        Assert.False(await Store.DeletePolicyAsync());
    }

    [Fact]
    public async Task A_tagged_auth_key_needs_its_tags_in_the_policys_tag_owners()
    {
        Store.AccessPolicy = Owning("tag:server", "alice");

        var refused = await Store.CreateAuthKeyAsync(null, ["tag:db"], reusable: true, ephemeral: false, null);
        Assert.Equal(StoreError.Forbidden, refused.Error);
        Assert.Contains("tag:db", refused.Message, StringComparison.Ordinal);
        Assert.Contains("tagOwners", refused.Message, StringComparison.Ordinal);

        Assert.True((await Store.CreateAuthKeyAsync(null, ["tag:server"], reusable: true, ephemeral: false, null)).Succeeded);
    }

    [Fact]
    public async Task Registering_with_a_tagged_key_is_refused_once_the_policy_no_longer_owns_the_tag_and_uses_nothing()
    {
        var key = await CreateKeyAsync(null, reusable: false, tags: ["tag:server"]);
        Store.AccessPolicy = Owning("tag:db", "alice");

        var refused = Assert.IsType<RegistrationResult.Rejected>(await Store.RegisterNodeAsync(Request(key.Plaintext, "web")));
        Assert.Contains("tag:server", refused.Reason, StringComparison.Ordinal);
        Assert.Contains("tagOwners", refused.Reason, StringComparison.Ordinal);
        Assert.Empty(await AllNodesAsync());

        // The single-use key was not spent: with the tag owned again it registers.
        Store.AccessPolicy = Owning("tag:server", "alice");
        var node = await RegisterAsync(Request(key.Plaintext, "web"));
        Assert.Equal(["tag:server"], node.Tags);
    }

    [Fact]
    public async Task Tagging_a_node_hands_it_from_its_user_to_the_tags_only_where_tag_owners_allow()
    {
        var node = await RegisterForAsync("alice", "web");
        Store.AccessPolicy = Owning("tag:server", "alice");

        var refused = await Store.SetNodeTagsAsync(node.Id, ["tag:db"]);
        Assert.Equal(StoreError.Forbidden, refused.Error);
        Assert.Contains("tag:db", refused.Message, StringComparison.Ordinal);
        Assert.Equal("alice", (await Store.GetNodeByIdAsync(node.Id))!.User?.Name);

        var tagged = await Store.SetNodeTagsAsync(node.Id, ["Tag:Server"]);
        Assert.True(tagged.Succeeded, tagged.Message);
        var stored = (await Store.GetNodeByIdAsync(node.Id))!;
        Assert.Null(stored.UserId);
        Assert.Equal(["tag:server"], stored.Tags);

        Assert.Equal(StoreError.Invalid, (await Store.SetNodeTagsAsync(node.Id, [])).Error);
    }

    [Fact]
    public async Task Approving_a_waiting_node_for_tags_needs_them_in_tag_owners()
    {
        var waiting = Assert.IsType<RegistrationResult.Pending>(await Store.RegisterNodeAsync(Request(null, "db"))).Node;
        Store.AccessPolicy = Owning("tag:server", "alice");

        var refused = await Store.ApproveNodeAsync(waiting.Id, tags: ["tag:db"]);
        Assert.Equal(StoreError.Forbidden, refused.Error);
        Assert.Contains("tag:db", refused.Message, StringComparison.Ordinal);
        Assert.Equal(NodeStatus.Pending, (await Store.GetNodeByIdAsync(waiting.Id))!.Status);

        Assert.True((await Store.ApproveNodeAsync(waiting.Id, tags: ["tag:server"])).Succeeded);
    }

    [Fact]
    public async Task The_policys_auto_approvers_approve_advertised_routes_and_apply_again_after_a_policy_change()
    {
        var router = await RegisterForAsync("alice", "router", routes: ["10.1.0.0/16", "192.168.7.0/24"]);
        Assert.Empty(router.ApprovedRoutes);

        Store.AccessPolicy = new GrantPolicy([], routeApprovers: [(IPNetwork.Parse("10.0.0.0/8"), "alice")]);
        var changed = await Store.ReapplyAutoApprovalsAsync();

        Assert.Equal([router.Id], changed.Select(n => n.Id));
        Assert.Equal(["10.1.0.0/16"], (await Store.GetNodeByIdAsync(router.Id))!.ServedRoutes());
        Assert.Empty(await Store.ReapplyAutoApprovalsAsync()); // nothing left it approves

        var advertised = await Store.SetAdvertisedRoutesAsync(router.Id, ["10.1.0.0/16", "10.2.0.0/16"]);
        Assert.Equal(["10.1.0.0/16", "10.2.0.0/16"], advertised.Value!.ServedRoutes());
    }
}

public sealed class PolicyStoreTestsOnSqlite(SqliteTestDatabase db) : PolicyStoreTests(db), IClassFixture<SqliteTestDatabase>;

public sealed class PolicyStoreTestsOnPostgres(PostgresTestDatabase db) : PolicyStoreTests(db), IClassFixture<PostgresTestDatabase>;
