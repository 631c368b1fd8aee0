using Trellis.Control.Policy;
using Trellis.Core.Control;
using static Trellis.Control.Tests.Policy.PolicyFixture;

namespace Trellis.Control.Tests.Policy;

/// <summary>Ports (*, single, ranges, lists) and protocols (names, numbers, the default four).</summary>
public class PolicyPortsAndProtocolsTests
{
    private static readonly PolicyNode Alice = Node(1, "alice");
    private static readonly PolicyNode Bob = Node(2, "bob");
    private static readonly PolicyNodeSet Both = Set(Alice, Bob);

    private static CompiledPolicy Rule(string dst, string proto = "") =>
        Compile($$"""{"acls": [{"action": "accept", "src": ["alice@"], "dst": ["{{dst}}"] {{proto}} }]}""");

    [Theory]
    [InlineData("bob@:*", 1, true)]
    [InlineData("bob@:*", 65535, true)]
    [InlineData("bob@:22", 22, true)]
    [InlineData("bob@:22", 21, false)]
    [InlineData("bob@:8000-8099", 8000, true)]
    [InlineData("bob@:8000-8099", 8099, true)]
    [InlineData("bob@:8000-8099", 8100, false)]
    [InlineData("bob@:80,443,8000-8001", 443, true)]
    [InlineData("bob@:80,443,8000-8001", 8001, true)]
    [InlineData("bob@:80,443,8000-8001", 444, false)]
    public void Ports_open_exactly_what_they_say(string dst, int port, bool open) =>
        Assert.Equal(open, Reaches(Rule(dst), Both, Alice, Bob, port));

    [Theory]
    [InlineData("bob@:http")]
    [InlineData("bob@:70000")]
    [InlineData("bob@:90-80")]
    [InlineData("bob@:22,")]
    [InlineData("bob@:-5")]
    public void A_bad_port_is_an_error_naming_it(string dst)
    {
        var error = Refused($$"""{"acls": [{"action": "accept", "src": ["alice@"], "dst": ["{{dst}}"]}]}""");

        Assert.Contains($"'{dst}'", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void Without_proto_a_rule_allows_tcp_udp_and_icmp_on_both_families()
    {
        var policy = Rule("bob@:*");

        Assert.True(Reaches(policy, Both, Alice, Bob, 53, IpProtocols.Udp));
        Assert.True(Reaches(policy, Both, Alice, Bob, 0, IpProtocols.Icmp));
        Assert.True(Allows(policy.InboundFilter(Bob, Both), Alice.IPv6, Bob.IPv6, 0, IpProtocols.IcmpV6));
        Assert.False(Reaches(policy, Both, Alice, Bob, 0, IpProtocols.Gre));
    }

    [Theory]
    [InlineData("tcp", IpProtocols.Tcp)]
    [InlineData("udp", IpProtocols.Udp)]
    [InlineData("sctp", IpProtocols.Sctp)]
    [InlineData("gre", IpProtocols.Gre)]
    [InlineData("esp", IpProtocols.Esp)]
    [InlineData("ah", IpProtocols.Ah)]
    [InlineData("igmp", IpProtocols.Igmp)]
    [InlineData("ipv6-icmp", IpProtocols.IcmpV6)]
    [InlineData("icmpv6", IpProtocols.IcmpV6)]
    [InlineData("47", IpProtocols.Gre)]
    public void A_proto_by_name_or_number_allows_that_protocol_only(string proto, int number)
    {
        var dst = PolicyProtocolsHavePorts(number) ? "bob@:100" : "bob@:*";
        var policy = Rule(dst, $", \"proto\": \"{proto}\"");

        var rule = Assert.Single(policy.InboundFilter(Bob, Both).Rules);
        Assert.Equal([number], rule.Protocols);
        Assert.False(Reaches(policy, Both, Alice, Bob, 100, number == IpProtocols.Tcp ? IpProtocols.Udp : IpProtocols.Tcp));
    }

    [Fact]
    public void Icmp_means_ping_on_both_families()
    {
        var rule = Assert.Single(Rule("bob@:*", ", \"proto\": \"icmp\"").InboundFilter(Bob, Both).Rules);

        Assert.Equal([IpProtocols.Icmp, IpProtocols.IcmpV6], rule.Protocols);
    }

    [Fact]
    public void A_numeric_proto_may_be_a_JSON_number()
    {
        var rule = Assert.Single(Rule("bob@:*", ", \"proto\": 50").InboundFilter(Bob, Both).Rules);

        Assert.Equal([IpProtocols.Esp], rule.Protocols);
    }

    [Fact]
    public void An_unknown_proto_is_an_error_listing_the_names()
    {
        var error = Refused("""{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"], "proto": "quic"}]}""");

        Assert.Contains("unknown proto 'quic'", error.Message, StringComparison.Ordinal);
        Assert.Contains("ipv6-icmp", error.Message, StringComparison.Ordinal);
        Assert.Equal((1, 71), (error.Line, error.Column));
    }

    [Fact]
    public void Ports_on_a_protocol_without_ports_are_an_error()
    {
        var error = Refused("""{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:22"], "proto": "icmp"}]}""");

        Assert.Contains("must use '*' for its ports", error.Message, StringComparison.Ordinal);
    }

    private static bool PolicyProtocolsHavePorts(int number) => number is IpProtocols.Tcp or IpProtocols.Udp or IpProtocols.Sctp;
}
