using Trellis.Control.Policy;
using Trellis.Core.Control;
using static Trellis.Control.Tests.Policy.PolicyFixture;

namespace Trellis.Control.Tests.Policy;

/// <summary>
/// A policy grants what its rules grant one by one. Rules with the same sources share one expansion
/// and, in a node's filter, one rule with all their destinations; each node must still see exactly the
/// peers, and let in exactly the packets, that its rules taken one at a time give it.
/// </summary>
public class RuleByRuleTests
{
    private const string Names = """
        "groups": { "group:eng": ["alice@", "bob@"], "group:ops": ["carol@"] },
        "tagOwners": { "tag:a": ["group:eng"], "tag:b": ["group:ops"], "tag:c": ["alice@"] },
        "hosts": { "nas": "100.64.0.9", "office": "10.0.0.0/16" },
        """;

    private static readonly string[] Users = ["alice", "bob", "carol", "dave"];
    private static readonly string[][] TagSets = [["tag:a"], ["tag:b"], ["tag:a", "tag:c"], ["tag:c"]];
    private static readonly string[] Routes = ["10.0.1.0/24", "10.0.2.0/24", "192.168.0.0/16"];

    private static readonly string[] Sources =
        ["*", "alice@", "dave@", "group:eng", "group:ops", "tag:a", "tag:b", "tag:c", "autogroup:member", "autogroup:tagged", "nas", "office", "100.64.0.3"];

    private static readonly string[] Destinations =
        ["*", "bob@", "group:eng", "group:ops", "tag:a", "tag:b", "tag:c", "autogroup:member", "autogroup:tagged", "autogroup:self", "nas", "office", "10.0.1.0/24", "100.64.0.5"];

    private static readonly string[] Ports = ["*", "22", "80,443", "1000-2000"];

    private static readonly string[] Protocols = ["", "\"proto\": \"tcp\", ", "\"proto\": \"udp\", "];

    [Fact]
    public void Every_node_of_a_random_mesh_gets_the_peers_and_the_filter_its_rules_give_one_by_one()
    {
        // Fixed seed: the same meshes and policies every run.
        var random = new Random(20261205);
        var merged = 0;
        for (var run = 0; run < 300; run++)
        {
            var nodes = RandomNodes(random);
            var rules = RandomRules(random);
            var policy = Compile(Text(rules));
            var alone = rules.Select(rule => Compile(Text([rule]))).ToList();
            var set = new PolicyNodeSet(nodes);

            foreach (var node in nodes)
            {
                var expectedPeers = new HashSet<long>();
                var expectedGrants = new HashSet<string>(StringComparer.Ordinal);
                var parts = 0;
                foreach (var one in alone)
                {
                    var oneSet = new PolicyNodeSet(nodes);
                    expectedPeers.UnionWith(one.VisiblePeers(node, oneSet));
                    var filter = one.InboundFilter(node, oneSet);
                    expectedGrants.UnionWith(Grants(filter));
                    parts += filter.Rules.Count;
                }

                var peers = policy.VisiblePeers(node, set);
                var whole = policy.InboundFilter(node, set);
                var context = $"run {run}, node {node.Id} ({node.User}, [{string.Join(",", node.Tags)}]), rules {Text(rules)}";
                Assert.True(expectedPeers.SetEquals(peers), $"{context}: peers [{string.Join(",", peers.Order())}], rule by rule [{string.Join(",", expectedPeers.Order())}]");
                Assert.True(expectedGrants.SetEquals(Grants(whole)), $"{context}: grants differ");
                Assert.Equal(parts == 0, whole.Rules.Count == 0);
                merged += parts - whole.Rules.Count;
            }
        }

        // Rules with the same sources did land in one filter rule, so the merging was exercised.
        Assert.True(merged > 100, $"only {merged} filter rules were merged");
    }

    [Fact]
    public void A_server_reached_by_several_rules_from_one_group_gets_its_members_once()
    {
        var policy = Compile($$"""
            { {{Names}} "acls": [
              { "action": "accept", "src": ["group:eng"], "dst": ["tag:a:22"] },
              { "action": "accept", "src": ["group:ops"], "dst": ["tag:a:80"] },
              { "action": "accept", "src": ["group:eng"], "dst": ["tag:a:443"] },
            ] }
            """);
        var alice = Node(1, "alice");
        var bob = Node(2, "bob");
        var carol = Node(3, "carol");
        var server = Tagged(4, "tag:a");
        var filter = policy.InboundFilter(server, Set(alice, bob, carol, server));

        Assert.Equal(2, filter.Rules.Count);
        var eng = filter.Rules[0];
        Assert.Equal(["100.64.0.1/32", "fd7a:7472:6c6c::1/128", "100.64.0.2/32", "fd7a:7472:6c6c::2/128"], eng.Sources);
        Assert.Equal([22, 443], eng.Destinations.Select(d => d.FirstPort).Distinct());
        Assert.True(Reaches(policy, Set(alice, bob, carol, server), bob, server, 443));
        Assert.False(Reaches(policy, Set(alice, bob, carol, server), carol, server, 443));
        Assert.True(Reaches(policy, Set(alice, bob, carol, server), carol, server, 80));
    }

    /// <summary>What a filter lets in, one source, destination, port range and protocol set at a time.</summary>
    private static IEnumerable<string> Grants(PacketFilter filter) =>
        from rule in filter.Rules
        from source in rule.Sources
        from destination in rule.Destinations
        select $"{source} {destination.Prefix} {destination.FirstPort}-{destination.LastPort} [{string.Join(",", rule.Protocols)}]";

    private static List<PolicyNode> RandomNodes(Random random)
    {
        var count = random.Next(4, 24);
        var nodes = new List<PolicyNode>();
        for (var id = 1; id <= count; id++)
        {
            var routes = random.Next(5) == 0 ? [Routes[random.Next(Routes.Length)]] : Array.Empty<string>();
            nodes.Add(random.Next(3) == 0
                ? Node(id, random.Next(2) == 0 ? Users[random.Next(Users.Length)] : null, TagSets[random.Next(TagSets.Length)], routes)
                : Node(id, Users[random.Next(Users.Length)], null, routes));
        }

        return nodes;
    }

    private static List<string> RandomRules(Random random)
    {
        var rules = new List<string>();
        var sourceLists = new List<List<string>>();
        for (var r = random.Next(1, 8); r > 0; r--)
        {
            // Often the sources of an earlier rule, as policies repeat a group as the source of many rules.
            var src = sourceLists.Count > 0 && random.Next(2) == 0
                ? sourceLists[random.Next(sourceLists.Count)]
                : Pick(random, Sources, random.Next(1, 3));
            var dst = Pick(random, Destinations, random.Next(1, 3));

            // autogroup:self lets in only the source user's own nodes; Tailscale requires user sources for it.
            if (dst.Contains("autogroup:self"))
            {
                src = Pick(random, ["alice@", "dave@", "group:eng", "autogroup:member"], random.Next(1, 3));
            }

            sourceLists.Add(src);
            var ports = dst.Select(d => $"{d}:{Ports[random.Next(Ports.Length)]}");
            rules.Add($$"""{ "action": "accept", {{Protocols[random.Next(Protocols.Length)]}}"src": [{{Quoted(src)}}], "dst": [{{Quoted(ports)}}] }""");
        }

        return rules;
    }

    private static string Text(IEnumerable<string> rules) => $$"""{ {{Names}} "acls": [{{string.Join(", ", rules)}}] }""";

    private static List<string> Pick(Random random, string[] from, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => from[random.Next(from.Length)]).Distinct()];

    private static string Quoted(IEnumerable<string> items) => string.Join(", ", items.Select(i => $"\"{i}\""));
}
