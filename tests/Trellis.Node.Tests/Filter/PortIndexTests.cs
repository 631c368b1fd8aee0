using System.Numerics;
using Microsoft.Extensions.Time.Testing;
using Trellis.Core.Control;
using Trellis.Node.Filter;
using static Trellis.Node.Tests.Filter.FilterPackets;

namespace Trellis.Node.Tests.Filter;

/// <summary>
/// The port index narrows a packet's candidate rules by destination port before any rule is checked,
/// so rules from the same sources (a policy of "src": ["*"] rules) cost a packet one lookup, not one check each.
/// </summary>
public class PortIndexTests
{
    private static readonly UInt128 Self4 = 0x64400001; // 100.64.0.1

    [Fact]
    public void Of_a_hundred_rules_for_distinct_ports_a_packet_is_a_candidate_for_its_own_port_rule_only()
    {
        var ports = Enumerable.Range(0, 100).Select(i => i == 99 ? 5201 : 10001 + i).ToArray();
        var index = Build(ports.Select(p => new[] { (p, p) }).ToArray())!;

        Assert.Equal([99], Rules(index.RulesFor(5201)));
        Assert.Equal([49], Rules(index.RulesFor(10050)));
        Assert.Empty(Rules(index.RulesFor(40000))); // a reply's ephemeral port: straight on to the flow table
    }

    [Fact]
    public void Every_port_and_overlapping_ranges_are_candidates_wherever_they_cover_the_port()
    {
        var index = Build(
            [(0, IpProtocols.MaxPort)],
            [(8000, 8100)],
            [(8050, 8050)],
            [(22, 22), (443, 443)])!;

        Assert.Equal([0], Rules(index.RulesFor(0)));
        Assert.Equal([0, 3], Rules(index.RulesFor(22)));
        Assert.Equal([0], Rules(index.RulesFor(23)));
        Assert.Equal([0, 3], Rules(index.RulesFor(443)));
        Assert.Equal([0, 1], Rules(index.RulesFor(8000)));
        Assert.Equal([0, 1, 2], Rules(index.RulesFor(8050)));
        Assert.Equal([0, 1], Rules(index.RulesFor(8100)));
        Assert.Equal([0], Rules(index.RulesFor(8101)));
        Assert.Equal([0], Rules(index.RulesFor(IpProtocols.MaxPort)));
    }

    [Fact]
    public void Past_its_size_limit_the_index_is_left_out_and_the_filter_still_grants_each_port_to_its_rule_alone()
    {
        // 5,000 rules (79 bitmap words) for every other port cut the port space into 10,001 pieces: past MaxWords.
        const int rules = 5000;
        static int Port(int rule) => 10000 + (2 * rule);
        var policy = new PacketFilter
        {
            Rules = [.. Enumerable.Range(0, rules).Select(i => new FilterRule
            {
                Sources = ["100.64.0.0/10"],
                Destinations = [new FilterDestination { Prefix = "100.64.0.1/32", FirstPort = Port(i), LastPort = Port(i) }],
                Protocols = [IpProtocols.Tcp],
            })],
        };
        Assert.Null(Build([.. Enumerable.Range(0, rules).Select(i => new[] { (Port(i), Port(i)) })]));

        var filter = new StatefulPacketFilter(new FakeTimeProvider());
        Assert.Empty(filter.Update(policy));

        Assert.True(filter.Allows(Tcp("100.64.0.2", 50000, "100.64.0.1", Port(rules - 1))));
        Assert.True(filter.Allows(Tcp("100.64.0.2", 50000, "100.64.0.1", Port(0))));
        Assert.False(filter.Allows(Tcp("100.64.0.2", 50000, "100.64.0.1", Port(0) + 1)));
    }

    /// <summary>An index over rules to this node, each with the given port ranges.</summary>
    private static PortIndex? Build(params (int First, int Last)[][] rules)
    {
        var compiled = new List<CompiledRule>();
        var destinations = new List<DestinationRange>();
        foreach (var ranges in rules)
        {
            compiled.Add(new CompiledRule([IpProtocols.Tcp], destinations.Count, ranges.Length));
            destinations.AddRange(ranges.Select(r => new DestinationRange(Self4, Self4, (ushort)r.First, (ushort)r.Last)));
        }

        return PortIndex.Build(compiled, destinations);
    }

    private static List<int> Rules(ReadOnlySpan<ulong> bitmap)
    {
        var rules = new List<int>();
        for (var word = 0; word < bitmap.Length; word++)
        {
            for (var bits = bitmap[word]; bits != 0; bits &= bits - 1)
            {
                rules.Add((word << 6) + BitOperations.TrailingZeroCount(bits));
            }
        }

        return rules;
    }
}
