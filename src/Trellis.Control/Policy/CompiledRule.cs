namespace Trellis.Control.Policy;

/// <summary>A destination of a rule and the ports it opens there.</summary>
internal sealed record RuleDestination(Selector Selector, IReadOnlyList<PortRange> Ports);

/// <summary>One "acls" entry with its names resolved: sources, destinations with ports, protocols (empty: the default four).</summary>
internal sealed class CompiledRule(int index, IReadOnlyList<Selector> sources, IReadOnlyList<RuleDestination> destinations, IReadOnlyList<int> protocols)
{
    public int Index { get; } = index;

    public IReadOnlyList<Selector> Sources { get; } = sources;

    public IReadOnlyList<RuleDestination> Destinations { get; } = destinations;

    public IReadOnlyList<int> Protocols { get; } = protocols;

    public bool HasSelfDestination { get; } = destinations.Any(d => d.Selector.Kind == SelectorKind.Self);

    public bool SourceNames(PolicyNode node) => Sources.Any(s => s.NamesNode(node));
}
