using System.Net;
using Trellis.Control.Policy;
using Trellis.Core.Control;
using static Trellis.Control.Tests.Policy.PolicyFixture;

namespace Trellis.Control.Tests.Policy;

/// <summary>Every kind of source and destination a rule can name, checked by what passes the filters and which peers are visible.</summary>
public class PolicyTargetTests
{
    private const string Names = """
        "groups": { "group:eng": ["alice@"] },
        "tagOwners": { "tag:server": ["group:eng"], "tag:db": ["alice@"] },
        "hosts": { "nas": "100.64.0.9", "office": "10.20.0.0/16" },
        """;

    private static readonly PolicyNode Alice = Node(1, "alice");
    private static readonly PolicyNode AliceLaptop = Node(2, "alice");
    private static readonly PolicyNode Bob = Node(3, "bob");
    private static readonly PolicyNode Server = Tagged(4, "tag:server");
    private static readonly PolicyNode Db = Tagged(5, "tag:db");
    private static readonly PolicyNode Router = Node(6, "carol", null, "10.20.0.0/16");
    private static readonly PolicyNode Nas = Node(9, "dave");
    private static readonly PolicyNodeSet Everyone = Set(Alice, AliceLaptop, Bob, Server, Db, Router, Nas);

    private static CompiledPolicy Rule(string src, string dst, string extra = "") =>
        Compile($$"""{ {{Names}} "acls": [{ "action": "accept", "src": ["{{src}}"], "dst": ["{{dst}}"] {{extra}} }] }""");

    [Fact]
    public void Star_reaches_every_node_from_every_node()
    {
        var policy = Rule("*", "*:*");

        Assert.True(Reaches(policy, Everyone, Bob, Server, 22));
        Assert.True(Reaches(policy, Everyone, Server, Alice, 443));
        Assert.Equal(Everyone.Count - 1, policy.VisiblePeers(Bob, Everyone).Count);
    }

    [Fact]
    public void A_user_reaches_only_as_that_user_and_only_untagged_nodes()
    {
        var policy = Rule("alice@", "bob@example.com:22");

        Assert.True(Reaches(policy, Everyone, Alice, Bob, 22));
        Assert.True(Reaches(policy, Everyone, AliceLaptop, Bob, 22));
        Assert.False(Reaches(policy, Everyone, Server, Bob, 22));
        Assert.False(Reaches(policy, Everyone, Bob, Alice, 22));
        Assert.False(Reaches(policy, Everyone, Alice, Bob, 23));
    }

    [Fact]
    public void A_tagged_node_is_owned_by_its_tags_not_its_user()
    {
        var ownedByBob = Node(10, "bob", ["tag:server"]);
        var set = Set(Alice, Bob, ownedByBob);
        var policy = Rule("alice@", "bob@:*");

        Assert.True(Reaches(policy, set, Alice, Bob, 80));
        Assert.False(Reaches(policy, set, Alice, ownedByBob, 80));
        Assert.DoesNotContain(ownedByBob.Id, policy.VisiblePeers(Alice, set));
    }

    [Fact]
    public void A_group_is_its_members()
    {
        var policy = Rule("group:eng", "tag:server:22");

        Assert.True(Reaches(policy, Everyone, Alice, Server, 22));
        Assert.False(Reaches(policy, Everyone, Bob, Server, 22));
        Assert.Contains(Server.Id, policy.VisiblePeers(Alice, Everyone));
        Assert.Contains(Alice.Id, policy.VisiblePeers(Server, Everyone));
        Assert.DoesNotContain(Bob.Id, policy.VisiblePeers(Server, Everyone));
    }

    [Fact]
    public void A_tag_names_its_nodes_as_source_and_destination()
    {
        var policy = Rule("tag:server", "tag:db:5432");

        Assert.True(Reaches(policy, Everyone, Server, Db, 5432));
        Assert.False(Reaches(policy, Everyone, Db, Server, 5432));
        Assert.Equal([Db.Id], policy.VisiblePeers(Server, Everyone));
        Assert.Equal([Server.Id], policy.VisiblePeers(Db, Everyone));
        Assert.Empty(policy.VisiblePeers(Bob, Everyone));
    }

    [Fact]
    public void Autogroup_member_is_every_untagged_node_and_tagged_every_tagged_one()
    {
        var members = Rule("autogroup:member", "autogroup:tagged:443");

        Assert.True(Reaches(members, Everyone, Bob, Server, 443));
        Assert.True(Reaches(members, Everyone, Alice, Db, 443));
        Assert.False(Reaches(members, Everyone, Server, Db, 443));
        Assert.False(Reaches(members, Everyone, Alice, Bob, 443));
    }

    [Fact]
    public void Autogroup_self_lets_a_user_reach_only_their_own_untagged_nodes()
    {
        var policy = Rule("*", "autogroup:self:*");

        Assert.True(Reaches(policy, Everyone, Alice, AliceLaptop, 22));
        Assert.True(Reaches(policy, Everyone, AliceLaptop, Alice, 22));
        Assert.False(Reaches(policy, Everyone, Bob, Alice, 22));
        Assert.False(Reaches(policy, Everyone, Server, Alice, 22));
        Assert.Equal([AliceLaptop.Id], policy.VisiblePeers(Alice, Everyone));
        Assert.Empty(policy.VisiblePeers(Bob, Everyone));
        Assert.Empty(policy.VisiblePeers(Server, Everyone));
    }

    [Fact]
    public void Autogroup_self_only_grants_users_the_source_names()
    {
        var policy = Rule("group:eng", "autogroup:self:22");
        var bobPhone = Node(11, "bob");
        var set = Set(Alice, AliceLaptop, Bob, bobPhone);

        Assert.True(Reaches(policy, set, Alice, AliceLaptop, 22));
        Assert.False(Reaches(policy, set, Bob, bobPhone, 22));
    }

    [Fact]
    public void Autogroup_self_and_internet_are_destinations_only()
    {
        Assert.Contains("only be a destination", Refused($$"""{ "acls": [{ "action": "accept", "src": ["autogroup:self"], "dst": ["*:*"] }] }""").Message, StringComparison.Ordinal);
        Assert.Contains("only be a destination", Refused($$"""{ "acls": [{ "action": "accept", "src": ["autogroup:internet"], "dst": ["*:*"] }] }""").Message, StringComparison.Ordinal);
        Assert.Contains("unknown autogroup", Refused($$"""{ "acls": [{ "action": "accept", "src": ["autogroup:shared"], "dst": ["*:*"] }] }""").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Autogroup_internet_grants_nothing_where_there_is_no_exit_node()
    {
        var policy = Rule("*", "autogroup:internet:*");

        Assert.All(Everyone.All, n => Assert.Empty(policy.InboundFilter(n, Everyone).Rules));
        Assert.Empty(policy.VisiblePeers(Alice, Everyone));
    }

    [Fact]
    public void Autogroup_internet_lets_its_sources_through_an_exit_node_to_public_addresses_only()
    {
        var exit = Node(20, "carol", null, "0.0.0.0/0", "::/0");
        var set = Set(Alice, Bob, exit);
        var policy = Rule("alice@", "autogroup:internet:*");

        var filter = policy.InboundFilter(exit, set);
        Assert.True(Allows(filter, Alice.IPv4, IPAddress.Parse("198.51.100.7"), 443));
        Assert.True(Allows(filter, Alice.IPv6, IPAddress.Parse("2001:db8::7"), 443));
        Assert.False(Allows(filter, Bob.IPv4, IPAddress.Parse("198.51.100.7"), 443));
        Assert.False(Allows(filter, Alice.IPv4, IPAddress.Parse("192.168.1.1"), 443));
        Assert.False(Allows(filter, Alice.IPv4, exit.IPv4, 22));
        Assert.False(Allows(filter, Alice.IPv6, exit.IPv6, 22));
        Assert.Contains(exit.Id, policy.VisiblePeers(Alice, set));
        Assert.DoesNotContain(exit.Id, policy.VisiblePeers(Bob, set));
    }

    [Fact]
    public void A_host_alias_names_its_address()
    {
        var policy = Rule("bob@", "nas:445");

        Assert.True(Reaches(policy, Everyone, Bob, Nas, 445));
        Assert.False(Reaches(policy, Everyone, Bob, Alice, 445));
        Assert.Equal([Nas.Id], policy.VisiblePeers(Bob, Everyone));
    }

    [Fact]
    public void An_IP_source_lets_that_address_in()
    {
        var policy = Rule("100.64.0.3", "alice@:22");
        var filter = policy.InboundFilter(Alice, Everyone);

        Assert.True(Allows(filter, Bob.IPv4, Alice.IPv4, 22));
        Assert.False(Allows(filter, Server.IPv4, Alice.IPv4, 22));
        Assert.Contains(Bob.Id, policy.VisiblePeers(Alice, Everyone));
    }

    [Fact]
    public void An_IPv6_destination_is_written_in_brackets_or_as_a_prefix()
    {
        foreach (var dst in new[] { "[fd7a:7472:6c6c::3]:22", "fd7a:7472:6c6c::3/128:22", "fd7a:7472:6c6c::3:22" })
        {
            var policy = Rule("alice@", dst);
            var filter = policy.InboundFilter(Bob, Everyone);

            Assert.True(Allows(filter, Alice.IPv6, Bob.IPv6, 22), dst);
            Assert.False(Allows(filter, Alice.IPv4, Bob.IPv4, 22), dst);
        }
    }

    [Fact]
    public void A_prefix_destination_grants_the_subnet_route_inside_it_on_its_router()
    {
        var policy = Rule("bob@", "office:3389");
        var filter = policy.InboundFilter(Router, Everyone);
        var desktop = IPAddress.Parse("10.20.5.7");

        Assert.True(Allows(filter, Bob.IPv4, desktop, 3389));
        Assert.False(Allows(filter, Alice.IPv4, desktop, 3389));
        Assert.False(Allows(filter, Bob.IPv4, Router.IPv4, 3389));
        Assert.Contains(Router.Id, policy.VisiblePeers(Bob, Everyone));
        Assert.Contains(Bob.Id, policy.VisiblePeers(Router, Everyone));
        Assert.DoesNotContain(Router.Id, policy.VisiblePeers(Alice, Everyone));
    }

    [Fact]
    public void Naming_part_of_a_route_grants_only_that_part()
    {
        var policy = Rule("bob@", "10.20.5.0/24:*");
        var filter = policy.InboundFilter(Router, Everyone);

        Assert.True(Allows(filter, Bob.IPv4, IPAddress.Parse("10.20.5.7"), 22));
        Assert.False(Allows(filter, Bob.IPv4, IPAddress.Parse("10.20.6.7"), 22));
    }

    [Fact]
    public void Star_as_destination_opens_routes_too_and_as_source_any_address()
    {
        var policy = Rule("*", "*:80");
        var filter = policy.InboundFilter(Router, Everyone);

        Assert.True(Allows(filter, IPAddress.Parse("192.168.1.5"), IPAddress.Parse("10.20.1.1"), 80));
    }

    [Fact]
    public void A_route_behind_a_source_prefix_makes_its_router_a_peer()
    {
        var policy = Rule("10.20.0.0/16", "alice@:22");

        Assert.Contains(Router.Id, policy.VisiblePeers(Alice, Everyone));
        Assert.Contains(Alice.Id, policy.VisiblePeers(Router, Everyone));
        Assert.True(Allows(policy.InboundFilter(Alice, Everyone), IPAddress.Parse("10.20.3.3"), Alice.IPv4, 22));
    }

    [Fact]
    public void A_filter_lists_source_addresses_and_this_nodes_own_destinations()
    {
        var policy = Rule("group:eng", "tag:server:22,443");
        var filter = policy.InboundFilter(Server, Everyone);

        var rule = Assert.Single(filter.Rules);
        Assert.Equal(
            new[] { "100.64.0.1/32", "100.64.0.2/32", "fd7a:7472:6c6c::1/128", "fd7a:7472:6c6c::2/128" },
            rule.Sources.Order(StringComparer.Ordinal));
        Assert.Equal(4, rule.Destinations.Count);
        Assert.All(rule.Destinations, d => Assert.Contains(d.Prefix, new[] { "100.64.0.4/32", "fd7a:7472:6c6c::4/128" }));
        Assert.Empty(rule.Protocols);
    }

    [Fact]
    public void Unknown_names_are_errors_at_their_position()
    {
        var group = Refused("{\n \"acls\": [{\"action\": \"accept\",\n  \"src\": [\"group:ops\"], \"dst\": [\"*:*\"]}]}");
        Assert.Equal((3, 11), (group.Line, group.Column));
        Assert.Contains("unknown group 'group:ops'", group.Message, StringComparison.Ordinal);

        var tag = Refused("""{"acls": [{"action": "accept", "src": ["*"], "dst": ["tag:web:80"]}]}""");
        Assert.Contains("'tag:web' has no entry in tagOwners", tag.Message, StringComparison.Ordinal);

        var host = Refused("""{"acls": [{"action": "accept", "src": ["printer"], "dst": ["*:*"]}]}""");
        Assert.Contains("unknown source 'printer'", host.Message, StringComparison.Ordinal);
        Assert.Contains("hosts", host.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Groups_cannot_nest_or_hold_tags()
    {
        var nested = Refused("""{"groups": {"group:a": ["alice@"], "group:b": ["group:a"]}}""");
        Assert.Contains("groups cannot contain groups", nested.Message, StringComparison.Ordinal);
        Assert.Equal(48, nested.Column);

        Assert.Contains("groups hold users only", Refused("""{"groups": {"group:a": ["tag:x"]}}""").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_prefix_with_host_bits_says_what_was_meant()
    {
        var error = Refused("""{"acls": [{"action": "accept", "src": ["*"], "dst": ["10.20.0.5/16:*"]}]}""");

        Assert.Contains("did you mean 10.20.0.0/16?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_destination_without_ports_says_how_to_write_it()
    {
        var error = Refused($$"""{ {{Names}} "acls": [{"action": "accept", "src": ["*"], "dst": ["tag:server"]}]}""");

        Assert.Contains("'tag:server:22' or 'tag:server:*'", error.Message, StringComparison.Ordinal);
    }
}
