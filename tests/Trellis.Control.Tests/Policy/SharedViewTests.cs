using Trellis.Control.Policy;
using static Trellis.Control.Tests.Policy.PolicyFixture;

namespace Trellis.Control.Tests.Policy;

/// <summary>
/// Nodes of one owner (a user's devices, the servers of one tag) share one computed view; each must
/// still see exactly the peers it would see were its view computed for it alone.
/// </summary>
public class SharedViewTests
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
        ["*", "alice@", "dave@", "group:eng", "group:ops", "tag:a", "tag:b", "tag:c", "autogroup:member", "autogroup:tagged", "nas", "office", "100.64.0.3", "100.64.0.0/28"];

    private static readonly string[] Destinations =
        ["*", "bob@", "group:eng", "group:ops", "tag:a", "tag:b", "tag:c", "autogroup:member", "autogroup:tagged", "autogroup:self", "autogroup:self", "nas", "office", "10.0.1.0/24", "100.64.0.5", "100.64.0.16/28"];

    [Fact]
    public void Every_node_of_a_random_mesh_sees_what_its_own_computation_gives_under_a_random_policy()
    {
        // Fixed seed: the same meshes and policies every run.
        var random = new Random(20261205);
        var checkedNodes = 0;
        var shared = 0;
        for (var run = 0; run < 300; run++)
        {
            var nodes = RandomNodes(random);
            var policy = Compile(RandomPolicy(random));
            var set = new PolicyNodeSet(nodes);

            // Asked in a random order, so any member of a class may be the one its view is computed for.
            foreach (var node in nodes.OrderBy(_ => random.Next()))
            {
                var alone = policy.VisiblePeers(node, new PolicyNodeSet(nodes)); // a fresh set: nothing shared
                var seen = policy.VisiblePeers(node, set);
                Assert.True(alone.SetEquals(seen), $"run {run}, node {node.Id} ({node.User}, [{string.Join(",", node.Tags)}], routes [{string.Join(",", node.Routes)}]): alone [{string.Join(",", alone.Order())}], shared [{string.Join(",", seen.Order())}]");
                Assert.DoesNotContain(node.Id, seen);
                checkedNodes++;
            }

            shared += nodes.Count - nodes.Select(n => (n.IsTagged ? null : n.User, string.Join(",", n.Tags))).Distinct().Count();
        }

        // The meshes do put several nodes in one class, so the sharing was exercised.
        Assert.True(shared > checkedNodes / 3, $"{shared} of {checkedNodes} nodes shared an owner with an earlier one");
    }

    [Fact]
    public void A_caller_changing_its_peers_does_not_change_another_node_of_the_same_owner()
    {
        var policy = Compile($$"""{ {{Names}} "acls": [{ "action": "accept", "src": ["alice@"], "dst": ["autogroup:self:*", "bob@:22"] }] }""");
        var laptop = Node(1, "alice");
        var phone = Node(2, "alice");
        var bob = Node(3, "bob");
        var set = Set(laptop, phone, bob);

        var laptopPeers = (HashSet<long>)policy.VisiblePeers(laptop, set);
        laptopPeers.Clear(); // the mesh does change the sets it keeps

        Assert.Equal([1L, 3], policy.VisiblePeers(phone, set).Order());
        Assert.Equal([2L, 3], policy.VisiblePeers(laptop, set).Order());
    }

    [Fact]
    public void Nodes_of_one_user_differ_when_an_address_rule_names_only_one_of_them()
    {
        // nas is 100.64.0.9: of alice's two nodes only that one is reachable from bob.
        var policy = Compile($$"""{ {{Names}} "acls": [{ "action": "accept", "src": ["bob@"], "dst": ["nas:22"] }] }""");
        var nas = Node(9, "alice");
        var laptop = Node(10, "alice");
        var bob = Node(3, "bob");
        var set = Set(nas, laptop, bob);

        Assert.Equal([3L], policy.VisiblePeers(nas, set).Order());
        Assert.Empty(policy.VisiblePeers(laptop, set));
    }

    private static List<PolicyNode> RandomNodes(Random random)
    {
        var count = random.Next(4, 30);
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

    private static string RandomPolicy(Random random)
    {
        var rules = new List<string>();
        for (var r = random.Next(1, 6); r > 0; r--)
        {
            var src = Pick(random, Sources, random.Next(1, 3));
            var dst = Pick(random, Destinations, random.Next(1, 3)).Select(d => $"{d}:{(random.Next(2) == 0 ? "*" : "22")}");

            // autogroup:self lets in only the source user's own nodes; Tailscale requires user sources for it.
            if (dst.Any(d => d.StartsWith("autogroup:self", StringComparison.Ordinal)))
            {
                src = Pick(random, ["alice@", "dave@", "group:eng", "autogroup:member"], random.Next(1, 3));
            }

            rules.Add($$"""{ "action": "accept", "src": [{{Quoted(src)}}], "dst": [{{Quoted(dst)}}] }""");
        }

        return $$"""{ {{Names}} "acls": [{{string.Join(", ", rules)}}] }""";
    }

    private static List<string> Pick(Random random, string[] from, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => from[random.Next(from.Length)]).Distinct()];

    private static string Quoted(IEnumerable<string> items) => string.Join(", ", items.Select(i => $"\"{i}\""));
}
