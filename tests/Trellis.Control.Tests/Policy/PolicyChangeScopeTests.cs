using Trellis.Control.Policy;
using static Trellis.Control.Tests.Policy.PolicyFixture;

namespace Trellis.Control.Tests.Policy;

/// <summary>
/// A policy edit recomputes only the views of the nodes a changed rule names; every node whose peers
/// or filter really change must be among them, whatever the edit.
/// </summary>
public class PolicyChangeScopeTests
{
    // alice and bob in group:dev, carol in group:ops, dave alone; two servers tagged db and web.
    private static readonly PolicyNode[] Nodes =
    [
        Node(1, "alice"), Node(2, "alice"), Node(3, "bob"), Node(4, "carol"), Node(5, "dave"),
        Tagged(6, "tag:db"), Tagged(7, "tag:web"), Tagged(8, "tag:web", "tag:db"),
    ];

    private static string Policy(string groups = "\"group:dev\": [\"alice@\", \"bob@\"], \"group:ops\": [\"carol@\"]", params string[] acls) =>
        $$"""
        {
          "groups": { {{groups}} },
          "tagOwners": { "tag:db": ["group:ops"], "tag:web": ["group:ops"] },
          "hosts": { "backup": "100.64.0.5/32" },
          "acls": [ {{string.Join(",\n", acls)}} ]
        }
        """;

    private static readonly string[] BaseRules =
    [
        """{"action": "accept", "src": ["group:dev"], "dst": ["tag:web:443"]}""",
        """{"action": "accept", "src": ["group:ops"], "dst": ["tag:db:5432"]}""",
        """{"action": "accept", "src": ["tag:web"], "dst": ["tag:db:5432"]}""",
        """{"action": "accept", "src": ["dave@"], "dst": ["backup:22"]}""",
    ];

    private static readonly string Base = Policy(acls: BaseRules);

    public static TheoryData<string, string> Edits => new()
    {
        { "a port added to one rule", Policy(acls: [BaseRules[0].Replace("443", "443,80", StringComparison.Ordinal), .. BaseRules[1..]]) },
        { "a group added to a destination", Policy(acls: [BaseRules[0].Replace("\"tag:web:443\"", "\"tag:web:443\", \"group:ops:22\"", StringComparison.Ordinal), .. BaseRules[1..]]) },
        { "a group's members changed", Policy("\"group:dev\": [\"alice@\"], \"group:ops\": [\"carol@\", \"bob@\"]", BaseRules) },
        { "a rule removed", Policy(acls: [.. BaseRules[..1], .. BaseRules[2..]]) },
        { "a rule inserted first", Policy(acls: ["""{"action": "accept", "src": ["carol@"], "dst": ["dave@:*"]}""", .. BaseRules]) },
        { "a rule appended", Policy(acls: [.. BaseRules, """{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"]}"""]) },
        { "a prefix rule's port", Policy(acls: [.. BaseRules[..3], BaseRules[3].Replace(":22", ":22,2222", StringComparison.Ordinal)]) },
        { "the same text again", Base },
    };

    [Theory]
    [MemberData(nameof(Edits))]
    public void Every_node_whose_peers_or_filter_change_is_in_the_scope(string edit, string text)
    {
        var before = Compile(Base);
        var after = Compile(text);
        var set = Set(Nodes);

        var scope = PolicyChangeScope.Between(before, after);

        Assert.NotNull(scope);
        foreach (var node in Nodes)
        {
            var peersChange = !before.VisiblePeers(node, set).SetEquals(after.VisiblePeers(node, set));
            var filterChanges = !SameFilter(before, after, node, set);
            if (peersChange || filterChanges)
            {
                Assert.True(scope.Concerns(node), $"{edit}: node {node.Id}'s view changes but the scope leaves it out");
            }
        }
    }

    [Fact]
    public void A_port_added_to_one_rule_concerns_only_the_nodes_that_rule_names()
    {
        var after = Compile(Policy(acls: [BaseRules[0].Replace("443", "443,80", StringComparison.Ordinal), .. BaseRules[1..]]));

        var scope = PolicyChangeScope.Between(Compile(Base), after)!;

        // group:dev (alice's and bob's nodes) to tag:web (7, 8); carol, dave and the db-only server untouched.
        Assert.Equal([1L, 2L, 3L, 7L, 8L], Nodes.Where(scope.Concerns).Select(n => n.Id));
    }

    [Fact]
    public void The_same_policy_again_concerns_no_node()
    {
        var scope = PolicyChangeScope.Between(Compile(Base), Compile(Base))!;

        Assert.DoesNotContain(Nodes, scope.Concerns);
    }

    [Fact]
    public void Setting_or_removing_a_policy_recomputes_every_view()
    {
        Assert.Null(PolicyChangeScope.Between(AllowAllPolicy.Instance, Compile(Base)));
        Assert.Null(PolicyChangeScope.Between(Compile(Base), AllowAllPolicy.Instance));
    }

    private static bool SameFilter(IAccessPolicy before, IAccessPolicy after, PolicyNode node, PolicyNodeSet set)
    {
        var a = before.InboundFilter(node, set);
        var b = after.InboundFilter(node, set);
        return a.Rules.Count == b.Rules.Count && a.Rules.Zip(b.Rules).All(pair =>
            pair.First.Sources.SequenceEqual(pair.Second.Sources)
            && pair.First.Destinations.SequenceEqual(pair.Second.Destinations)
            && pair.First.Protocols.SequenceEqual(pair.Second.Protocols));
    }
}
