using Microsoft.Extensions.Time.Testing;
using Trellis.Core.Control;
using Trellis.Node.Filter;
using static Trellis.Node.Tests.Filter.FilterPackets;

namespace Trellis.Node.Tests.Filter;

/// <summary>
/// The node's inbound filter on its own: this node is 100.64.0.1 / fd7a:115c:a1e0::1 and routes
/// 10.1.0.0/16; peers are 100.64.0.N / fd7a:115c:a1e0::N.
/// </summary>
public class StatefulPacketFilterTests
{
    private const string Self4 = "100.64.0.1";
    private const string Self6 = "fd7a:115c:a1e0::1";

    private static readonly PacketFilter Policy = new()
    {
        Rules =
        [
            // node 2 reaches this node's SSH and HTTPS (and ping: no "proto" means TCP, UDP, ICMP)
            new FilterRule
            {
                Sources = ["100.64.0.2/32", "fd7a:115c:a1e0::2/128"],
                Destinations =
                [
                    new FilterDestination { Prefix = "100.64.0.1/32", FirstPort = 22, LastPort = 22 },
                    new FilterDestination { Prefix = "fd7a:115c:a1e0::1/128", FirstPort = 22, LastPort = 22 },
                    new FilterDestination { Prefix = "100.64.0.1/32", FirstPort = 443, LastPort = 443 },
                    new FilterDestination { Prefix = "fd7a:115c:a1e0::1/128", FirstPort = 443, LastPort = 443 },
                ],
            },

            // node 3 reaches PostgreSQL in the subnet this node routes, over TCP only
            new FilterRule
            {
                Sources = ["100.64.0.3/32"],
                Destinations = [new FilterDestination { Prefix = "10.1.0.0/16", FirstPort = 5432, LastPort = 5432 }],
                Protocols = [IpProtocols.Tcp],
            },

            // node 4 may send GRE
            new FilterRule
            {
                Sources = ["100.64.0.4/32"],
                Destinations = [new FilterDestination { Prefix = "100.64.0.1/32" }],
                Protocols = [IpProtocols.Gre],
            },

            // node 5 may ask DNS over UDP
            new FilterRule
            {
                Sources = ["100.64.0.5/32"],
                Destinations = [new FilterDestination { Prefix = "100.64.0.1/32", FirstPort = 53, LastPort = 53 }],
                Protocols = [IpProtocols.Udp],
            },
        ],
    };

    private readonly FakeTimeProvider _time = new();

    private StatefulPacketFilter Filter(PacketFilter? policy = null, int capacity = FlowTable.DefaultCapacity)
    {
        var filter = new StatefulPacketFilter(_time, flowCapacity: capacity);
        Assert.Empty(filter.Update(policy ?? Policy));
        return filter;
    }

    [Theory]
    [InlineData("100.64.0.2", Self4)]
    [InlineData("fd7a:115c:a1e0::2", Self6)]
    public void Tcp_passes_on_the_granted_ports_only_and_only_from_the_granted_source(string peer, string self)
    {
        var filter = Filter();
        Assert.True(filter.Allows(Tcp(peer, 50000, self, 22)));
        Assert.True(filter.Allows(Tcp(peer, 50000, self, 443)));
        Assert.False(filter.Allows(Tcp(peer, 50000, self, 80)));
        Assert.False(filter.Allows(Tcp(peer, 50000, self, 23)));
        var stranger = peer.Replace("2", "9", StringComparison.Ordinal);
        Assert.False(filter.Allows(Tcp(stranger, 50000, self, 22)));
    }

    [Fact]
    public void Udp_passes_by_port_and_a_rule_for_one_protocol_grants_no_other()
    {
        var filter = Filter();
        Assert.True(filter.Allows(Udp("100.64.0.5", 40000, Self4, 53)));
        Assert.False(filter.Allows(Udp("100.64.0.5", 40000, Self4, 54)));
        Assert.False(filter.Allows(Tcp("100.64.0.5", 40000, Self4, 53)));
        Assert.False(filter.Allows(Echo("100.64.0.5", Self4, reply: false, id: 1)));
    }

    [Theory]
    [InlineData("100.64.0.2", Self4)]
    [InlineData("fd7a:115c:a1e0::2", Self6)]
    public void Ping_passes_where_the_default_protocols_grant_any_port(string peer, string self)
    {
        var filter = Filter();
        Assert.True(filter.Allows(Echo(peer, self, reply: false, id: 7)));
        Assert.False(filter.Allows(Echo(peer.Replace("2", "9", StringComparison.Ordinal), self, reply: false, id: 7)));
    }

    [Fact]
    public void Other_protocols_pass_by_number()
    {
        var filter = Filter();
        Assert.True(filter.Allows(Other("100.64.0.4", Self4, IpProtocols.Gre)));
        Assert.False(filter.Allows(Other("100.64.0.4", Self4, IpProtocols.Esp)));
        Assert.False(filter.Allows(Other("100.64.0.2", Self4, IpProtocols.Gre)));
    }

    [Fact]
    public void Traffic_to_a_served_subnet_is_filtered_by_its_prefix()
    {
        var filter = Filter();
        Assert.True(filter.Allows(Tcp("100.64.0.3", 40000, "10.1.2.3", 5432)));
        Assert.False(filter.Allows(Udp("100.64.0.3", 40000, "10.1.2.3", 5432)));
        Assert.False(filter.Allows(Tcp("100.64.0.3", 40000, "10.2.0.1", 5432)));
        Assert.False(filter.Allows(Tcp("100.64.0.3", 40000, Self4, 5432)));
        Assert.False(filter.Allows(Tcp("100.64.0.2", 40000, "10.1.2.3", 22)));
    }

    [Theory]
    [InlineData("100.64.0.9", Self4)]
    [InlineData("fd7a:115c:a1e0::9", Self6)]
    public void Replies_to_flows_this_node_opened_pass_without_a_rule_and_nothing_else_on_those_ports_does(string peer, string self)
    {
        var filter = Filter();
        Assert.False(filter.Allows(Tcp(peer, 80, self, 40000)));

        filter.RecordOutbound(Tcp(self, 40000, peer, 80));
        filter.RecordOutbound(Udp(self, 40001, peer, 53));
        Assert.True(filter.Allows(Tcp(peer, 80, self, 40000)));
        Assert.True(filter.Allows(Udp(peer, 53, self, 40001)));
        Assert.False(filter.Allows(Tcp(peer, 81, self, 40000)));
        Assert.False(filter.Allows(Tcp(peer, 80, self, 40002)));
        Assert.False(filter.Allows(Udp(peer, 80, self, 40000))); // the TCP flow's ports, in UDP
        Assert.False(filter.Allows(Tcp(peer.Replace("9", "8", StringComparison.Ordinal), 80, self, 40000)));
    }

    [Theory]
    [InlineData("100.64.0.9", Self4)]
    [InlineData("fd7a:115c:a1e0::9", Self6)]
    public void Echo_replies_pass_for_this_nodes_own_pings_only(string peer, string self)
    {
        var filter = Filter();
        filter.RecordOutbound(Echo(self, peer, reply: false, id: 7));
        Assert.True(filter.Allows(Echo(peer, self, reply: true, id: 7)));
        Assert.False(filter.Allows(Echo(peer, self, reply: true, id: 8)));
        Assert.False(filter.Allows(Echo(peer, self, reply: false, id: 7))); // a request is not a reply
    }

    [Theory]
    [InlineData("100.64.0.9", Self4)]
    [InlineData("fd7a:115c:a1e0::9", Self6)]
    public void An_icmp_error_passes_when_it_quotes_a_packet_of_this_nodes_own_flow(string peer, string self)
    {
        var filter = Filter();
        var sent = Udp(self, 40001, peer, 53);
        filter.RecordOutbound(sent);
        Assert.True(filter.Allows(Unreachable(peer, self, sent[..(sent[0] >> 4 == 4 ? 28 : 48)])));
        Assert.False(filter.Allows(Unreachable(peer, self, Udp(self, 40002, peer, 53))));
    }

    [Fact]
    public void Flows_expire_after_their_protocols_idle_time_and_sending_again_renews_them()
    {
        var filter = Filter();
        filter.RecordOutbound(Udp(Self4, 40001, "100.64.0.9", 53));
        filter.RecordOutbound(Tcp(Self4, 40000, "100.64.0.9", 80));
        filter.RecordOutbound(Echo(Self4, "100.64.0.9", reply: false, id: 7));

        _time.Advance(FlowTable.IcmpIdleTimeout + TimeSpan.FromSeconds(1));
        Assert.False(filter.Allows(Echo("100.64.0.9", Self4, reply: true, id: 7)));
        Assert.True(filter.Allows(Udp("100.64.0.9", 53, Self4, 40001)));
        filter.RecordOutbound(Udp(Self4, 40001, "100.64.0.9", 53)); // renewed

        _time.Advance(FlowTable.UdpIdleTimeout - TimeSpan.FromSeconds(1));
        Assert.True(filter.Allows(Udp("100.64.0.9", 53, Self4, 40001)));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(filter.Allows(Udp("100.64.0.9", 53, Self4, 40001)));
        Assert.True(filter.Allows(Tcp("100.64.0.9", 80, Self4, 40000)));

        _time.Advance(FlowTable.TcpIdleTimeout);
        Assert.False(filter.Allows(Tcp("100.64.0.9", 80, Self4, 40000)));
    }

    [Fact]
    public void A_full_flow_table_forgets_the_longest_idle_flow_first()
    {
        var filter = Filter(capacity: 4);
        for (var port = 40000; port < 40004; port++)
        {
            filter.RecordOutbound(Udp(Self4, port, "100.64.0.9", 53));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        filter.RecordOutbound(Udp(Self4, 40000, "100.64.0.9", 53)); // the oldest is used again: 40001 is now the longest idle
        filter.RecordOutbound(Udp(Self4, 40004, "100.64.0.9", 53));

        Assert.Equal(4, filter.FlowCount);
        Assert.False(filter.Allows(Udp("100.64.0.9", 53, Self4, 40001)));
        foreach (var port in new[] { 40000, 40002, 40003, 40004 })
        {
            Assert.True(filter.Allows(Udp("100.64.0.9", 53, Self4, port)), $"port {port}");
        }
    }

    [Fact]
    public void Without_a_policy_everything_passes_and_an_empty_policy_lets_in_only_replies()
    {
        var filter = Filter(PacketFilter.AllowAll);
        Assert.True(filter.Allows(Tcp("100.64.0.9", 1, Self4, 2)));
        Assert.True(filter.Allows(Other("100.64.0.9", Self4, IpProtocols.Esp)));
        filter.RecordOutbound(Tcp(Self4, 40000, "100.64.0.9", 80)); // recorded even without a policy

        Assert.Empty(filter.Update(PacketFilter.DenyAll));
        Assert.False(filter.Allows(Tcp("100.64.0.9", 1, Self4, 2)));
        Assert.True(filter.Allows(Tcp("100.64.0.9", 80, Self4, 40000)), "a flow opened before the policy came keeps its replies");

        Assert.Empty(filter.Update(null));
        Assert.True(filter.Allows(Tcp("100.64.0.9", 1, Self4, 2)));
    }

    [Fact]
    public void Later_fragments_pass_unless_they_could_overwrite_the_transport_header()
    {
        var filter = Filter(PacketFilter.DenyAll);
        Assert.True(filter.Allows(LaterFragmentV4("100.64.0.9", Self4, 185)));
        Assert.False(filter.Allows(LaterFragmentV4("100.64.0.9", Self4, 1)));
        Assert.True(filter.Allows(TcpV6WithExtensions("fd7a:115c:a1e0::9", Self6, 80, fragmentOffsetBlocks: 185)));
        Assert.False(filter.Allows(TcpV6WithExtensions("fd7a:115c:a1e0::9", Self6, 80, fragmentOffsetBlocks: 2)));
    }

    [Fact]
    public void Ipv6_extension_headers_are_walked_to_the_transport_header()
    {
        var filter = Filter();
        Assert.True(filter.Allows(TcpV6WithExtensions("fd7a:115c:a1e0::2", Self6, 22)));
        Assert.False(filter.Allows(TcpV6WithExtensions("fd7a:115c:a1e0::2", Self6, 80)));
    }

    [Theory]
    [InlineData(8)]
    [InlineData(0)]
    public void A_packet_cut_short_of_its_transport_header_is_dropped(int transportBytes)
    {
        var filter = Filter();
        Assert.False(filter.Allows(Truncated(Tcp("100.64.0.2", 50000, Self4, 22), transportBytes)));
        Assert.False(filter.Allows(Truncated(Tcp("fd7a:115c:a1e0::2", 50000, Self6, 22), transportBytes)));
    }

    [Fact]
    public void Entries_that_cannot_be_read_are_reported_and_only_narrow_the_rule()
    {
        var filter = new StatefulPacketFilter(_time);
        var problems = filter.Update(new PacketFilter
        {
            Rules =
            [
                new FilterRule
                {
                    Sources = ["100.64.0.2", "not-an-address", "100.64.0.0/99"],
                    Destinations = [new FilterDestination { Prefix = "100.64.0.1/32", FirstPort = 22, LastPort = 22 }],
                    Protocols = [IpProtocols.Tcp, 300],
                },
            ],
        });

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.Contains("'not-an-address' is not an IP address", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("300 is not an IP protocol number", StringComparison.Ordinal));
        Assert.True(filter.Allows(Tcp("100.64.0.2", 50000, Self4, 22)));
        Assert.False(filter.Allows(Tcp("100.64.0.3", 50000, Self4, 22)));
    }

    [Fact]
    public void One_hundred_rules_each_grant_their_own_source_and_port()
    {
        var filter = Filter(HundredRules());
        for (var i = 0; i < 100; i++)
        {
            var source = $"100.64.1.{i}";
            Assert.True(filter.Allows(Tcp(source, 50000, Self4, 1000 + i)), $"rule {i}");
            Assert.False(filter.Allows(Tcp(source, 50000, Self4, 1000 + ((i + 1) % 100))), $"rule {i}, another rule's port");
        }
    }

    /// <summary>Rule i: 100.64.1.i (and fd7a:115c:a1e0:1::i) to this node's TCP port 1000+i.</summary>
    internal static PacketFilter HundredRules() => new()
    {
        Rules = [.. Enumerable.Range(0, 100).Select(i => new FilterRule
        {
            Sources = [$"100.64.1.{i}/32", $"fd7a:115c:a1e0:1::{i:x}/128"],
            Destinations =
            [
                new FilterDestination { Prefix = "100.64.0.1/32", FirstPort = 1000 + i, LastPort = 1000 + i },
                new FilterDestination { Prefix = "fd7a:115c:a1e0::1/128", FirstPort = 1000 + i, LastPort = 1000 + i },
            ],
            Protocols = [IpProtocols.Tcp],
        })],
    };
}
