using System.Numerics;

namespace Trellis.Node.Filter;

/// <summary>
/// The compiled rules of one address family: the source and port indexes, the rules, their
/// destinations. A packet checks only the rules both indexes name (the port index only for
/// protocols with ports).
/// </summary>
internal sealed class FamilyRules
{
    private readonly SourceIndex _sources;
    private readonly PortIndex? _ports;
    private readonly CompiledRule[] _rules;
    private readonly DestinationRange[] _destinations;

    public FamilyRules(SourceIndex sources, CompiledRule[] rules, DestinationRange[] destinations)
    {
        _sources = sources;
        _ports = PortIndex.Build(rules, destinations);
        _rules = rules;
        _destinations = destinations;
    }

    public int RuleCount => _rules.Length;

    /// <summary>Whether some rule names the packet's source, protocol, destination and (for TCP, UDP, SCTP) port.</summary>
    public bool Allows(in PacketHeaders packet)
    {
        var candidates = _sources.RulesFor(packet.Source);
        var hasPorts = PacketHeaders.HasPorts(packet.Protocol);
        var ports = hasPorts && _ports is not null ? _ports.RulesFor(packet.DestinationPort) : default;
        for (var word = 0; word < candidates.Length; word++)
        {
            var bits = ports.IsEmpty ? candidates[word] : candidates[word] & ports[word];
            while (bits != 0)
            {
                var index = (word << 6) + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                ref readonly var rule = ref _rules[index];
                if (!rule.AllowsProtocol(packet.Protocol))
                {
                    continue;
                }

                var end = rule.FirstDestination + rule.DestinationCount;
                for (var d = rule.FirstDestination; d < end; d++)
                {
                    ref readonly var destination = ref _destinations[d];
                    if (packet.Destination >= destination.First && packet.Destination <= destination.Last &&
                        (!hasPorts || (packet.DestinationPort >= destination.FirstPort && packet.DestinationPort <= destination.LastPort)))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }
}
