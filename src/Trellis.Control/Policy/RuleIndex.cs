namespace Trellis.Control.Policy;

/// <summary>A destination of one rule: the rule's position and the destination's position in it.</summary>
internal readonly record struct RuleRef(int Rule, int Destination) : IComparable<RuleRef>
{
    public int CompareTo(RuleRef other) => Rule != other.Rule ? Rule.CompareTo(other.Rule) : Destination.CompareTo(other.Destination);
}

/// <summary>
/// The rules filed under what they name, built once per policy, so a node's view looks only at the rules
/// that can concern it (those naming its user, its tags, its kind, or addresses) instead of every rule.
/// </summary>
internal sealed class RuleIndex
{
    private readonly Keyed<RuleRef> _destinations = new();
    private readonly Keyed<int> _sources = new();

    public RuleIndex(IReadOnlyList<CompiledRule> rules)
    {
        foreach (var rule in rules)
        {
            foreach (var source in rule.Sources)
            {
                _sources.Add(source, rule.Index);
            }

            for (var d = 0; d < rule.Destinations.Count; d++)
            {
                _destinations.Add(rule.Destinations[d].Selector, new RuleRef(rule.Index, d));
            }
        }
    }

    /// <summary>The destinations that may name this node, in rule order; prefixes among them still need checking against its addresses.</summary>
    public List<RuleRef> DestinationsFor(PolicyNode node)
    {
        var refs = _destinations.For(node);
        refs.Sort();

        // A user both listed in a group and put in it by the identity provider finds its rules twice.
        var unique = 0;
        for (var i = 0; i < refs.Count; i++)
        {
            if (i == 0 || refs[i] != refs[i - 1])
            {
                refs[unique++] = refs[i];
            }
        }

        refs.RemoveRange(unique, refs.Count - unique);
        return refs;
    }

    /// <summary>The rules that may have this node among their sources, each once, in order.</summary>
    public List<int> RulesFrom(PolicyNode node)
    {
        var rules = _sources.For(node);
        rules.Sort();
        var unique = 0;
        for (var i = 0; i < rules.Count; i++)
        {
            if (i == 0 || rules[i] != rules[i - 1])
            {
                rules[unique++] = rules[i];
            }
        }

        rules.RemoveRange(unique, rules.Count - unique);
        return rules;
    }

    private sealed class Keyed<T>
    {
        private readonly List<T> _everyone = [];
        private readonly List<T> _members = [];
        private readonly List<T> _tagged = [];
        private readonly Dictionary<string, List<T>> _byUser = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<T>> _byTag = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, List<T>> _byGroup = new(StringComparer.Ordinal);

        public void Add(Selector selector, T item)
        {
            switch (selector.Kind)
            {
                case SelectorKind.All or SelectorKind.Prefix:
                    _everyone.Add(item);
                    break;
                case SelectorKind.Members or SelectorKind.Self:
                    _members.Add(item);
                    break;
                case SelectorKind.Tagged:
                    _tagged.Add(item);
                    break;
                case SelectorKind.Tag:
                    Under(_byTag, selector.Tag).Add(item);
                    break;
                case SelectorKind.Users:
                    foreach (var user in selector.Users)
                    {
                        Under(_byUser, user).Add(item);
                    }

                    if (selector.Group is { } group)
                    {
                        Under(_byGroup, group).Add(item);
                    }

                    break;
                case SelectorKind.Internet:
                    _everyone.Add(item); // any node may be an exit node; DestinationCoverage tells which is
                    break;
                default:
                    break;
            }
        }

        public List<T> For(PolicyNode node)
        {
            var found = new List<T>(_everyone);
            if (node.IsTagged)
            {
                found.AddRange(_tagged);
                foreach (var tag in node.Tags)
                {
                    if (_byTag.TryGetValue(tag, out var list))
                    {
                        found.AddRange(list);
                    }
                }
            }
            else if (node.User is { } user)
            {
                found.AddRange(_members);
                if (_byUser.TryGetValue(user, out var list))
                {
                    found.AddRange(list);
                }

                foreach (var group in node.Groups)
                {
                    if (_byGroup.TryGetValue(group, out var members))
                    {
                        found.AddRange(members);
                    }
                }
            }

            return found;
        }

        private static List<T> Under(Dictionary<string, List<T>> index, string key)
        {
            if (!index.TryGetValue(key, out var list))
            {
                index[key] = list = [];
            }

            return list;
        }
    }
}
