using Trellis.Control.Policy;
using static Trellis.Control.Tests.Policy.PolicyFixture;

namespace Trellis.Control.Tests.Policy;

/// <summary>HuJSON reading and the shape of the policy: comments, trailing commas, sizes, and errors that point at the text.</summary>
public class PolicySyntaxTests
{
    [Fact]
    public void Comments_and_trailing_commas_are_HuJSON_and_accepted()
    {
        var policy = Compile("""
            // who may reach what
            {
              /* the team */
              "groups": { "group:eng": ["alice@", "bob@example.com",], },
              "acls": [
                { "action": "accept", "src": ["group:eng"], "dst": ["*:22"], }, // ssh
              ],
            }
            """);

        Assert.Equal(1, policy.RuleCount);
        Assert.Empty(policy.Warnings);
    }

    [Fact]
    public void Malformed_HuJSON_names_the_line_and_column()
    {
        var error = Refused("{\n  \"acls\": [\n    { \"action\": \"accept\" \"src\": [] }\n  ]\n}");

        Assert.Equal(3, error.Line);
        Assert.Equal(26, error.Column);
        Assert.StartsWith("line 3, column 26: not valid HuJSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Columns_count_characters_not_bytes()
    {
        var error = Refused("{\"groups\": {\"group:é\": [\"ünknown@\"]}}");

        Assert.Equal(1, error.Line);
        Assert.Equal(25, error.Column);
        Assert.Contains("'ünknown@' is not a user", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_top_level_field_is_an_error_at_its_name()
    {
        var error = Refused("{\n  \"acls\": [],\n  \"acl\": []\n}");

        Assert.Equal((3, 3), (error.Line, error.Column));
        Assert.Contains("unknown field \"acl\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("acls", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Tailscale_only_section_is_refused_by_name()
    {
        var error = Refused("{\"ssh\": []}");

        Assert.Contains("Tailscale section Trellis does not support", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_field_in_a_rule_is_an_error()
    {
        var error = Refused("""{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"], "sorce": ["x"]}]}""");

        Assert.Contains("unknown field \"sorce\" in acls[0]", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void A_duplicate_key_is_an_error()
    {
        var error = Refused("{\"hosts\": {\"db\": \"10.0.0.1\", \"db\": \"10.0.0.2\"}}");

        Assert.Contains("appears twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_accept_is_an_action()
    {
        var error = Refused("""{"acls": [{"action": "deny", "src": ["*"], "dst": ["*:*"]}]}""");

        Assert.Contains("\"action\": \"accept\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_legacy_users_and_ports_fields_still_mean_src_and_dst()
    {
        var policy = Compile("""{"ACLs": [{"Action": "accept", "Users": ["alice@"], "Ports": ["*:22"]}]}""");

        var alice = Node(1, "alice");
        var server = Node(2, "bob");
        Assert.True(Reaches(policy, Set(alice, server), alice, server, 22));
    }

    [Fact]
    public void A_policy_over_1_MiB_is_refused_before_it_is_parsed()
    {
        // 10 MB of an unterminated string: parsing would fail anyway, so only the size check can say "size".
        var huge = "{\"acls\": [\"" + new string('x', 10 * 1024 * 1024);

        var error = Refused(huge);

        Assert.Contains("over the limit of 1048576 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, error.Line);
    }

    [Fact]
    public void An_empty_text_is_refused_with_what_to_write()
    {
        Assert.Contains("the policy is empty", Refused("  \n").Message, StringComparison.Ordinal);
        Assert.Contains("only comments", Refused("// nothing yet\n").Message, StringComparison.Ordinal);
        Assert.Contains("must be a JSON object", Refused("[]").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_acls_list_is_valid_denies_everything_and_says_so()
    {
        foreach (var text in new[] { """{"acls": []}""", "{}" })
        {
            var policy = Compile(text);
            var a = Node(1, "alice");
            var b = Node(2, "alice");
            var set = Set(a, b);

            Assert.True(policy.DeniesEverything);
            Assert.Contains(PolicyWarnings.DeniesEverything, policy.Warnings);
            Assert.False(policy.AllowsAll);
            Assert.Empty(policy.VisiblePeers(a, set));
            Assert.Empty(policy.InboundFilter(a, set).Rules);
            Assert.False(policy.InboundFilter(a, set).AllowsAll);
        }
    }

    [Fact]
    public void No_policy_is_the_allow_all_policy()
    {
        var a = Node(1, "alice");
        var b = Node(2, "bob");
        var set = Set(a, b);

        Assert.True(AllowAllPolicy.Instance.AllowsAll);
        Assert.True(AllowAllPolicy.Instance.InboundFilter(a, set).AllowsAll);
        Assert.Equal([2L], AllowAllPolicy.Instance.VisiblePeers(a, set));
    }

    [Fact]
    public void A_wrong_type_names_the_section()
    {
        var error = Refused("{\"groups\": {\"group:eng\": \"alice@\"}}");

        Assert.Contains("groups.group:eng must be a list", error.Message, StringComparison.Ordinal);
        Assert.Equal((1, 26), (error.Line, error.Column));
    }
}
