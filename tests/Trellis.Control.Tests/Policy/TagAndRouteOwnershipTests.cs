using System.Net;
using Trellis.Control.Policy;
using static Trellis.Control.Tests.Policy.PolicyFixture;

namespace Trellis.Control.Tests.Policy;

/// <summary>tagOwners (who may put a tag on a node) and autoApprovers (which routes and exit nodes need no admin).</summary>
public class TagAndRouteOwnershipTests
{
    private static readonly CompiledPolicy Policy = Compile("""
        {
          "groups": { "group:ops": ["carol@"] },
          "tagOwners": {
            "tag:server": ["alice@", "group:ops"],
            "tag:ci": ["bob@example.com"],
            "tag:build": ["tag:ci"],
            "tag:locked": [],
          },
          "autoApprovers": {
            "routes": { "10.0.0.0/8": ["group:ops", "tag:server"], "fd00:1::/48": ["alice@"] },
            "exitNode": ["tag:server"],
          },
          "acls": [],
        }
        """);

    [Theory]
    [InlineData("alice", "tag:server", true)]
    [InlineData("alice@", "tag:server", true)]
    [InlineData("alice@example.com", "tag:server", true)]
    [InlineData("carol", "tag:server", true)]
    [InlineData("bob", "tag:server", false)]
    [InlineData("bob", "tag:ci", true)]
    [InlineData("alice", "tag:ci", false)]
    [InlineData("tag:ci", "tag:build", true)]
    [InlineData("bob", "tag:build", false)]
    [InlineData("alice", "tag:locked", false)]
    [InlineData("alice", "tag:unknown", false)]
    public void Tag_owners_are_users_groups_and_tags(string actor, string tag, bool allowed) =>
        Assert.Equal(allowed, Policy.MayApplyTag(actor, tag));

    [Fact]
    public void An_admin_may_apply_any_tag()
    {
        Assert.True(Policy.MayApplyTag(null, "tag:locked"));
    }

    [Fact]
    public void A_tag_owner_that_is_an_undefined_tag_is_an_error()
    {
        var error = Refused("""{"tagOwners": {"tag:a": ["tag:b"]}}""");

        Assert.Contains("'tag:b' has no entry in tagOwners", error.Message, StringComparison.Ordinal);
        Assert.Equal(26, error.Column);
    }

    [Fact]
    public void A_bad_tag_name_is_an_error()
    {
        Assert.Contains("is not a tag", Refused("""{"tagOwners": {"server": []}}""").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Routes_inside_an_approved_prefix_are_approved_for_its_owners()
    {
        var carol = Node(1, "carol");
        var alice = Node(2, "alice");
        var server = Tagged(3, "tag:server");
        var aliceTagged = Node(4, "alice", ["tag:ci"]);

        Assert.True(Policy.AutoApprovesRoute(carol, IPNetwork.Parse("10.1.0.0/16")));
        Assert.True(Policy.AutoApprovesRoute(server, IPNetwork.Parse("10.0.0.0/8")));
        Assert.False(Policy.AutoApprovesRoute(carol, IPNetwork.Parse("0.0.0.0/5")));
        Assert.False(Policy.AutoApprovesRoute(alice, IPNetwork.Parse("10.1.0.0/16")));
        Assert.True(Policy.AutoApprovesRoute(alice, IPNetwork.Parse("fd00:1:0:5::/64")));
        Assert.False(Policy.AutoApprovesRoute(aliceTagged, IPNetwork.Parse("fd00:1:0:5::/64")));
    }

    [Fact]
    public void Exit_node_routes_are_approved_by_exitNode_only()
    {
        Assert.True(Policy.AutoApprovesRoute(Tagged(3, "tag:server"), IPNetwork.Parse("0.0.0.0/0")));
        Assert.True(Policy.AutoApprovesRoute(Tagged(3, "tag:server"), IPNetwork.Parse("::/0")));
        Assert.False(Policy.AutoApprovesRoute(Node(1, "carol"), IPNetwork.Parse("0.0.0.0/0")));
    }

    [Fact]
    public void A_default_route_under_routes_points_to_exitNode()
    {
        var error = Refused("""{"autoApprovers": {"routes": {"0.0.0.0/0": ["alice@"]}}}""");

        Assert.Contains("autoApprovers.exitNode", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_approver_field_is_an_error()
    {
        Assert.Contains("unknown field \"exitNodes\"", Refused("""{"autoApprovers": {"exitNodes": []}}""").Message, StringComparison.Ordinal);
    }
}
