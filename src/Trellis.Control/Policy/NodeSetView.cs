using System.Collections.Concurrent;

namespace Trellis.Control.Policy;

/// <summary>
/// What the rules expand to over one node set, computed the first time a node's view needs it and then
/// shared by every node's view of the same set: each rule's source prefixes and source nodes, and the
/// nodes its destinations name. A membership change brings a new set and so a fresh, empty view.
/// </summary>
internal sealed class NodeSetView
{
    private static readonly string[] EveryAddress = ["0.0.0.0/0", "::/0"];

    private readonly PolicyNodeSet _set;
    private readonly IReadOnlyList<CompiledRule> _rules;
    private readonly int[] _sameSources;
    // Filled on demand, so a view costs what the nodes asked about touch, not the size of the policy
    // (the policy's own tests build a small set per test). Expanding is pure: a lost race only repeats work.
    private readonly ConcurrentDictionary<int, RuleSources> _sources = new();
    private readonly ConcurrentDictionary<int, HashSet<long>> _destinations = new();
    private readonly ConcurrentDictionary<ViewClass, HashSet<long>> _visible = new();
    private readonly Lazy<(List<PolicyNode> Members, List<PolicyNode> Tagged)> _kinds;

    /// <param name="sameSources">Per rule, the first rule with the same sources, whose expansion it shares.</param>
    public NodeSetView(PolicyNodeSet set, IReadOnlyList<CompiledRule> rules, int[] sameSources)
    {
        _set = set;
        _rules = rules;
        _sameSources = sameSources;
        _kinds = new(() => (
            set.All.Where(n => !n.IsTagged && n.User is not null).ToList(),
            set.All.Where(n => n.IsTagged).ToList()));
    }

    public PolicyNodeSet Set => _set;

    /// <summary>A rule's sources, the same object for every rule with the same source selectors.</summary>
    public RuleSources Sources(int rule) => _sources.GetOrAdd(_sameSources[rule], static (index, view) => view.ExpandSources(view._rules[index]), this);

    /// <summary>The nodes a rule's destinations name, autogroup:self aside (it depends on who sends).</summary>
    public HashSet<long> DestinationNodes(int rule) => _destinations.GetOrAdd(rule, static (index, view) => view.ExpandDestinations(view._rules[index]), this);

    /// <summary>The peers the nodes of one <see cref="ViewClass"/> see, computed by the first of them to ask; never to be changed by a caller.</summary>
    public HashSet<long> VisibleToClass<TState>(ViewClass key, Func<TState, HashSet<long>> compute, TState state) =>
        _visible.GetOrAdd(key, static (_, s) => s.Compute(s.State), (Compute: compute, State: state));

    /// <summary>The nodes of <paramref name="user"/> that a rule lets in through autogroup:self.</summary>
    public IEnumerable<PolicyNode> SelfSources(int rule, PolicyNode destination) =>
        !destination.IsTagged && destination.User is { } user
            ? _set.OwnedBy(user).Where(_rules[rule].SourceNames)
            : [];

    private RuleSources ExpandSources(CompiledRule rule)
    {
        var sources = new RuleSources();
        foreach (var selector in rule.Sources)
        {
            if (selector.Kind == SelectorKind.All)
            {
                foreach (var prefix in EveryAddress)
                {
                    sources.AddPrefix(prefix);
                }
            }
            else if (selector.Kind == SelectorKind.Prefix)
            {
                sources.AddPrefix(selector.Prefix.ToString());
            }

            foreach (var node in Named(selector))
            {
                sources.AddNode(node, addAddresses: selector.Kind is not (SelectorKind.All or SelectorKind.Prefix));
            }
        }

        sources.Seal();
        return sources;
    }

    private HashSet<long> ExpandDestinations(CompiledRule rule)
    {
        var ids = new HashSet<long>();
        foreach (var destination in rule.Destinations)
        {
            foreach (var node in Named(destination.Selector))
            {
                ids.Add(node.Id);
            }
        }

        return ids;
    }

    private IEnumerable<PolicyNode> Named(Selector selector) => selector.Kind switch
    {
        SelectorKind.All => _set.All,
        SelectorKind.Users => selector.Group is { } group
            ? selector.Users.SelectMany(_set.OwnedBy).Concat(_set.InGroup(group)).DistinctBy(node => node.Id)
            : selector.Users.SelectMany(_set.OwnedBy),
        SelectorKind.Tag => _set.Tagged(selector.Tag),
        SelectorKind.Members => _kinds.Value.Members,
        SelectorKind.Tagged => _kinds.Value.Tagged,
        SelectorKind.Prefix => _set.All.Where(node => PolicyPrefixes.Touches(selector.Prefix, node)),
        SelectorKind.Internet => _set.All.Where(InternetAccess.IsExitNode),
        _ => [],
    };
}
