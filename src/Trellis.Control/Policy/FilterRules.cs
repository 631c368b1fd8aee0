using Trellis.Core.Control;

namespace Trellis.Control.Policy;

/// <summary>
/// A node's filter rules as they are gathered: a rule with the same source list (the same shared
/// object) and protocols as one already there adds its destinations to it. A packet passes either way;
/// the node is sent the source list once instead of once per policy rule, which for a server reached
/// by many rules from the same groups is most of its filter.
/// </summary>
internal sealed class FilterRules
{
    private readonly List<(IReadOnlyList<string> Sources, IReadOnlyList<int> Protocols, List<FilterDestination> Destinations)> _rules = [];

    public int Count => _rules.Count;

    public void Add(IReadOnlyList<string> sources, List<FilterDestination> destinations, IReadOnlyList<int> protocols)
    {
        foreach (var rule in _rules)
        {
            if (ReferenceEquals(rule.Sources, sources) && rule.Protocols.SequenceEqual(protocols))
            {
                foreach (var destination in destinations)
                {
                    if (!rule.Destinations.Contains(destination))
                    {
                        rule.Destinations.Add(destination);
                    }
                }

                return;
            }
        }

        _rules.Add((sources, protocols, destinations));
    }

    public List<FilterRule> Build() =>
        [.. _rules.Select(r => new FilterRule { Sources = r.Sources, Destinations = r.Destinations, Protocols = r.Protocols })];
}
