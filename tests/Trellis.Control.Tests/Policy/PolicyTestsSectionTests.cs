using static Trellis.Control.Tests.Policy.PolicyFixture;

namespace Trellis.Control.Tests.Policy;

/// <summary>The policy's own "tests" run at compile time; a failing one refuses the policy, naming the test and what failed.</summary>
public class PolicyTestsSectionTests
{
    private const string Policy = """
        {
          "groups": { "group:eng": ["alice@", "erin@"] },
          "tagOwners": { "tag:server": ["group:eng"], "tag:db": ["group:eng"] },
          "hosts": { "lan": "192.168.10.0/24" },
          "acls": [
            { "action": "accept", "src": ["group:eng"], "dst": ["tag:server:22,443"] },
            { "action": "accept", "src": ["group:eng"], "dst": ["tag:server:*"], "proto": "icmp" },
            { "action": "accept", "src": ["tag:server"], "dst": ["tag:db:5432"] },
            { "action": "accept", "src": ["*"], "dst": ["autogroup:self:*"] },
            { "action": "accept", "src": ["bob@"], "dst": ["lan:80"] },
          ],
          "tests": [
        """;

    private static string With(string tests) => Policy + tests + "]}";

    [Fact]
    public void Passing_tests_are_counted()
    {
        var policy = Compile(With("""
            { "src": "group:eng", "accept": ["tag:server:22", "tag:server:443"], "deny": ["tag:server:80", "tag:db:5432"] },
            { "src": "alice@", "accept": ["alice@:8080"], "deny": ["bob@:22", "erin@:22"] },
            { "src": "tag:server", "accept": ["tag:db:5432"], "deny": ["tag:db:22", "alice@:22"] },
            { "src": "bob@", "accept": ["192.168.10.7:80", "lan:80"], "deny": ["192.168.11.7:80", "tag:server:22"] },
            { "src": "alice@", "proto": "icmp", "accept": ["tag:server:*"] },
            { "src": "100.64.0.77", "deny": ["tag:server:22"] },
            """));

        Assert.Equal(5, policy.RuleCount);
        Assert.Equal(6, policy.TestCount);
    }

    [Fact]
    public void A_failing_accept_names_the_test_its_source_and_the_destination()
    {
        var error = Refused(With("""
            { "src": "alice@", "accept": ["tag:server:22"] },
            { "src": "bob@", "accept": ["tag:server:22"] },
            """));

        Assert.Contains("test 1 (src bob@) fails: bob@ cannot reach tag:server:22, which the test accepts", error.Message, StringComparison.Ordinal);
        Assert.Equal((13, 29), (error.Line, error.Column));
    }

    [Fact]
    public void A_failing_deny_names_what_was_reachable()
    {
        var error = Refused(With("""{ "src": "tag:server", "deny": ["tag:db:5432"] },"""));

        Assert.Contains("test 0 (src tag:server) fails: tag:server can reach tag:db:5432, which the test denies", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_group_source_must_hold_for_every_member()
    {
        var policy = Policy.Replace("\"src\": [\"bob@\"], \"dst\": [\"lan:80\"]", "\"src\": [\"alice@\"], \"dst\": [\"tag:db:80\"]", StringComparison.Ordinal);

        var error = Refused(policy + """{ "src": "group:eng", "accept": ["tag:db:80"] }]}""");

        Assert.Contains("erin@ cannot reach tag:db:80", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_test_checks_one_port()
    {
        var error = Refused(With("""{ "src": "alice@", "accept": ["tag:server:20-22"] },"""));

        Assert.Contains("a test checks one port", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_test_with_unknown_names_or_fields_is_an_error()
    {
        Assert.Contains("unknown group 'group:ops'", Refused(With("""{ "src": "group:ops", "accept": ["tag:server:22"] },""")).Message, StringComparison.Ordinal);
        Assert.Contains("'tag:web' has no entry", Refused(With("""{ "src": "alice@", "accept": ["tag:web:22"] },""")).Message, StringComparison.Ordinal);
        Assert.Contains("unknown field \"allow\"", Refused(With("""{ "src": "alice@", "allow": ["tag:server:22"] },""")).Message, StringComparison.Ordinal);
        Assert.Contains("checks nothing", Refused(With("""{ "src": "alice@" },""")).Message, StringComparison.Ordinal);
        Assert.Contains("the src of a test", Refused(With("""{ "src": "*", "deny": ["tag:server:22"] },""")).Message, StringComparison.Ordinal);
    }
}
