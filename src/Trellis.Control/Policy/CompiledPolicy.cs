using System.Net;
using System.Runtime.CompilerServices;
using Trellis.Core.Control;

namespace Trellis.Control.Policy;

/// <summary>
/// A policy in force: rules with their names resolved, filed by what they name (<see cref="RuleIndex"/>),
/// and per node set the expansions every node's view shares (<see cref="NodeSetView"/>). Deny by default;
/// replies to a node's own connections are the node's stateful filter's business, not the policy's.
/// </summary>
public sealed class CompiledPolicy : IAccessPolicy
{
    private readonly IReadOnlyList<CompiledRule> _rules;
    private readonly RuleIndex _index;
    private readonly IReadOnlyDictionary<string, OwnerSet> _tagOwners;
    private readonly IReadOnlyList<(IPNetwork Prefix, OwnerSet Owners)> _routeApprovers;
    private readonly OwnerSet _exitNodeApprovers;
    private readonly ConditionalWeakTable<PolicyNodeSet, NodeSetView> _views = [];
    private readonly IReadOnlyList<IPNetwork> _prefixes; // every address prefix a rule names: part of a node's ViewClass
    private readonly int[] _sameSources; // per rule, the first rule with the same sources: they expand once and share a filter rule

    // Overlapping rules make the sum of their sets overstate a node's peers; past this the set grows as usual.
    private const int MaxPresize = 1 << 16;

    internal CompiledPolicy(
        IReadOnlyList<CompiledRule> rules,
        IReadOnlyDictionary<string, OwnerSet> tagOwners,
        IReadOnlyList<(IPNetwork Prefix, OwnerSet Owners)> routeApprovers,
        OwnerSet exitNodeApprovers,
        IReadOnlyList<string> warnings)
    {
        _rules = rules;
        _index = new RuleIndex(rules);
        _sameSources = SameSources(rules);
        _prefixes = [.. rules
            .SelectMany(rule => rule.Sources.Concat(rule.Destinations.Select(d => d.Selector)))
            .Where(selector => selector.Kind == SelectorKind.Prefix)
            .Select(selector => selector.Prefix)
            .Distinct()];
        _tagOwners = tagOwners;
        _routeApprovers = routeApprovers;
        _exitNodeApprovers = exitNodeApprovers;
        Warnings = warnings;
    }

    public bool AllowsAll => false;

    /// <summary>The number of "acls" entries.</summary>
    public int RuleCount => _rules.Count;

    int? IAccessPolicy.RuleCount => RuleCount;

    internal IReadOnlyList<CompiledRule> Rules => _rules;

    /// <summary>The number of "tests" entries, all of which passed when the policy compiled.</summary>
    public int TestCount { get; internal set; }

    /// <summary>What a person should know about a valid policy, e.g. that it denies everything.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>True when no rule grants anything: every node is cut off from every other.</summary>
    public bool DeniesEverything => _rules.Count == 0;

    public IReadOnlySet<long> VisiblePeers(PolicyNode node, PolicyNodeSet nodes)
    {
        var peers = new HashSet<long>(ClassPeers(node, nodes)); // the class's set is shared: the caller gets its own copy
        peers.Remove(node.Id);
        return peers;
    }

    public IReadOnlySet<long> ClassPeers(PolicyNode node, PolicyNodeSet nodes)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(nodes);
        var view = View(nodes);
        return view.VisibleToClass(ViewClass.Of(node, _prefixes), static (state) => state.Policy.ClassPeers(state.Node, state.View), (Policy: this, Node: node, View: view));
    }

    /// <summary>The peers every node of <paramref name="node"/>'s <see cref="ViewClass"/> sees, perhaps the node itself among them.</summary>
    private HashSet<long> ClassPeers(PolicyNode node, NodeSetView view)
    {
        var nodes = view.Set;
        var peers = new HashSet<long>();

        // Those the rules name as a whole (most peers), gathered first so the set is sized once.
        var named = new List<HashSet<long>>();
        AddReaching(node, view, peers, named);

        // Those this node may reach.
        foreach (var rule in _index.RulesFrom(node))
        {
            if (!_rules[rule].SourceNames(node))
            {
                continue;
            }

            named.Add(view.DestinationNodes(rule));
            if (_rules[rule].HasSelfDestination && !node.IsTagged && node.User is { } user)
            {
                peers.UnionWith(nodes.OwnedBy(user).Select(n => n.Id));
            }
        }

        AddAll(peers, named);
        return peers;
    }

    public IReadOnlySet<long> NodesReaching(PolicyNode node, PolicyNodeSet nodes)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(nodes);
        var reaching = new HashSet<long>();
        var named = new List<HashSet<long>>();
        AddReaching(node, View(nodes), reaching, named);
        AddAll(reaching, named);
        reaching.Remove(node.Id);
        return reaching;
    }

    /// <summary>
    /// Those that may reach <paramref name="node"/> (the sources of its inbound filter): autogroup:self
    /// sources into <paramref name="peers"/>, the sets rules name as a whole into <paramref name="named"/>.
    /// </summary>
    private void AddReaching(PolicyNode node, NodeSetView view, HashSet<long> peers, List<HashSet<long>> named)
    {
        foreach (var at in _index.DestinationsFor(node))
        {
            var destination = _rules[at.Rule].Destinations[at.Destination];
            if (!DestinationCoverage.Any(destination.Selector, node))
            {
                continue;
            }

            if (destination.Selector.Kind == SelectorKind.Self)
            {
                peers.UnionWith(view.SelfSources(at.Rule, node).Select(n => n.Id));
            }
            else
            {
                named.Add(view.Sources(at.Rule).Nodes);
            }
        }
    }

    public PacketFilter InboundFilter(PolicyNode node, PolicyNodeSet nodes)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(nodes);
        var view = View(nodes);
        var refs = _index.DestinationsFor(node);
        var rules = new FilterRules();
        var start = 0;
        while (start < refs.Count)
        {
            var end = start;
            while (end < refs.Count && refs[end].Rule == refs[start].Rule)
            {
                end++;
            }

            AddRules(rules, view, node, refs, start, end);
            start = end;
        }

        return rules.Count == 0 ? PacketFilter.DenyAll : new PacketFilter { Rules = rules.Build() };
    }

    /// <summary>
    /// Whether <paramref name="actor"/> may put <paramref name="tag"/> on a node: a user (alice, or alice@ as
    /// a policy writes it) listed in the tag's owners directly or through a group, or a tag listed there
    /// (a node with that tag may tag others, as in Tailscale). A null actor is an admin: always allowed.
    /// </summary>
    public bool MayApplyTag(string? user, string tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        if (user is null)
        {
            return true;
        }

        if (!_tagOwners.TryGetValue(tag, out var owners))
        {
            return false;
        }

        if (PolicyNames.IsTag(user))
        {
            return owners.Tags.Contains(user);
        }

        var at = user.IndexOf('@', StringComparison.Ordinal);
        return owners.Users.Contains((at < 0 ? user : user[..at]).ToLowerInvariant());
    }

    /// <summary>A default route is an exit node (autoApprovers.exitNode); any other route must lie inside an approved prefix (autoApprovers.routes).</summary>
    public bool AutoApprovesRoute(PolicyNode node, IPNetwork route)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (route.PrefixLength == 0)
        {
            return _exitNodeApprovers.Owns(node);
        }

        foreach (var (prefix, owners) in _routeApprovers)
        {
            if (PolicyPrefixes.Covers(prefix, route) && owners.Owns(node))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// UnionWith of each set, but grown once (to at most the sum of their sizes) and without the interface
    /// enumerator: this runs for every node when a policy is set.
    /// </summary>
    private static void AddAll(HashSet<long> into, List<HashSet<long>> sets)
    {
        var most = into.Count;
        foreach (var set in sets)
        {
            most += set.Count;
        }

        into.EnsureCapacity(Math.Min(most, MaxPresize));
        foreach (var set in sets)
        {
            foreach (var id in set)
            {
                into.Add(id);
            }
        }
    }

    /// <summary>
    /// For each rule, the first rule whose sources are the same selectors in the same order. Policies
    /// repeat a group as the source of many rules; a node those rules reach then gets one filter rule
    /// with all their destinations, and its source list once instead of once per rule.
    /// </summary>
    private static int[] SameSources(IReadOnlyList<CompiledRule> rules)
    {
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        var same = new int[rules.Count];
        foreach (var rule in rules)
        {
            var key = string.Join('\n', rule.Sources.Select(s => $"{(int)s.Kind} {s.Text}"));
            same[rule.Index] = first.TryAdd(key, rule.Index) ? rule.Index : first[key];
        }

        return same;
    }

    private NodeSetView View(PolicyNodeSet nodes) => _views.GetValue(nodes, set => new NodeSetView(set, _rules, _sameSources));

    /// <summary>The filter rules of one policy rule for this node: one for its ordinary destinations, one for autogroup:self, whose sources differ.</summary>
    private void AddRules(FilterRules into, NodeSetView view, PolicyNode node, List<RuleRef> refs, int start, int end)
    {
        var rule = _rules[refs[start].Rule];
        List<FilterDestination>? ordinary = null, self = null;
        var covered = new List<string>();
        for (var i = start; i < end; i++)
        {
            var destination = rule.Destinations[refs[i].Destination];
            covered.Clear();
            DestinationCoverage.Add(destination.Selector, node, covered);
            if (covered.Count == 0)
            {
                continue;
            }

            var list = destination.Selector.Kind == SelectorKind.Self ? self ??= [] : ordinary ??= [];
            foreach (var prefix in covered)
            {
                foreach (var ports in destination.Ports)
                {
                    list.Add(new FilterDestination { Prefix = prefix, FirstPort = ports.First, LastPort = ports.Last });
                }
            }
        }

        if (ordinary is not null && view.Sources(rule.Index).Prefixes is { Count: > 0 } sources)
        {
            into.Add(sources, ordinary, rule.Protocols);
        }

        if (self is not null)
        {
            var selfSources = view.SelfSources(rule.Index, node)
                .SelectMany(n => new[] { PolicyPrefixes.HostText(n.IPv4), PolicyPrefixes.HostText(n.IPv6) })
                .ToList();
            if (selfSources.Count > 0)
            {
                into.Add(selfSources, self, rule.Protocols);
            }
        }
    }
}
