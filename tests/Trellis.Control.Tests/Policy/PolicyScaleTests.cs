using System.Diagnostics;
using System.Globalization;
using System.Text;
using Trellis.Control.Policy;
using Xunit.Abstractions;
using static Trellis.Control.Tests.Policy.PolicyFixture;

namespace Trellis.Control.Tests.Policy;

/// <summary>
/// The size the issue benchmarks: 5,000 nodes, 200 rules over 50 groups and tags. Checked for correctness
/// only; the time is printed for the record, never asserted (CI runs on two busy cores).
/// </summary>
public class PolicyScaleTests(ITestOutputHelper output)
{
    private const int Nodes = 5000;
    private const int Groups = 25;
    private const int Tags = 25;
    private const int Rules = 200;
    private const int UsersPerGroup = 8;

    [Fact]
    public void Five_thousand_nodes_and_two_hundred_rules_give_every_node_its_own_view()
    {
        var cpu = Environment.CpuUsage.TotalTime;
        var clock = Stopwatch.StartNew();
        var policy = Compile(BuildPolicy());
        var compiled = clock.Elapsed;

        var nodes = Enumerable.Range(1, Nodes).Select(i => i % 5 == 0
            ? Tagged(i, $"tag:t{i % Tags}")
            : Node(i, $"u{i % (Groups * UsersPerGroup)}")).ToList();
        var set = new PolicyNodeSet(nodes);
        var totalRules = 0;
        var totalPeers = 0;
        foreach (var node in nodes)
        {
            totalRules += policy.InboundFilter(node, set).Rules.Count;
            totalPeers += policy.VisiblePeers(node, set).Count;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"compile {compiled.TotalMilliseconds:F0} ms; {Nodes} filters and peer sets {(clock.Elapsed - compiled).TotalMilliseconds:F0} ms; {totalRules} filter rules, {totalPeers} peers; process CPU {(Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds:F0} ms"));

        // Rule k lets group g(k mod 25) reach tag t(k mod 25) on port 1000+k (odd rules also let that tag
        // in, and open t(k+1) on 5432). Node 5 is tagged t5: members of the groups of t5's rules reach it.
        var tagged = nodes[4];
        var allowedUser = nodes.First(n => !n.IsTagged && MemberOfGroupFor(n.User!, tag: 5));
        var otherUser = nodes.First(n => !n.IsTagged && !Enumerable.Range(0, Rules).Any(k => k % Tags == 5 && Member(n.User!, k % Groups)));
        Assert.True(Reaches(policy, set, allowedUser, tagged, PortOfFirstRuleFor(allowedUser.User!, tag: 5)));
        Assert.False(Reaches(policy, set, otherUser, tagged, PortOfFirstRuleFor(allowedUser.User!, tag: 5)));
        Assert.Contains(allowedUser.Id, policy.VisiblePeers(tagged, set));
        Assert.DoesNotContain(otherUser.Id, policy.VisiblePeers(tagged, set));
        Assert.True(totalRules > 0);
    }

    private static bool Member(string user, int group) =>
        int.Parse(user.AsSpan(1), CultureInfo.InvariantCulture) / UsersPerGroup == group;

    private static bool MemberOfGroupFor(string user, int tag) =>
        Enumerable.Range(0, Rules).Any(k => k % Tags == tag && Member(user, k % Groups));

    private static int PortOfFirstRuleFor(string user, int tag) =>
        1000 + Enumerable.Range(0, Rules).First(k => k % Tags == tag && Member(user, k % Groups));

    private static string BuildPolicy()
    {
        var text = new StringBuilder("{\"groups\": {");
        for (var g = 0; g < Groups; g++)
        {
            var members = Enumerable.Range(g * UsersPerGroup, UsersPerGroup).Select(u => $"\"u{u}@\"");
            text.Append(CultureInfo.InvariantCulture, $"\"group:g{g}\": [{string.Join(", ", members)}],");
        }

        text.Append("}, \"tagOwners\": {");
        for (var t = 0; t < Tags; t++)
        {
            text.Append(CultureInfo.InvariantCulture, $"\"tag:t{t}\": [\"group:g{t % Groups}\"],");
        }

        text.Append("}, \"acls\": [");
        for (var k = 0; k < Rules; k++)
        {
            var rule = k % 2 == 0
                ? $"{{\"action\": \"accept\", \"src\": [\"group:g{k % Groups}\"], \"dst\": [\"tag:t{k % Tags}:{1000 + k}\"]}},"
                : $"{{\"action\": \"accept\", \"src\": [\"group:g{k % Groups}\", \"tag:t{k % Tags}\"], \"dst\": [\"tag:t{k % Tags}:{1000 + k}\", \"tag:t{(k + 1) % Tags}:5432\"]}},";
            text.Append(rule);
        }

        return text.Append("]}").ToString();
    }
}
