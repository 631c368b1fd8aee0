using System.Net;
using Trellis.Core.Control;

namespace Trellis.Control.Policy;

/// <summary>
/// The names a policy defines (groups, tag owners, hosts) checked once, and the parsing of every other
/// string against them: sources, destinations with ports, owners. Each error points at the string.
/// </summary>
internal sealed class PolicyScope
{
    private const int MaxUserLength = 63;

    private readonly Dictionary<string, HashSet<string>> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IPNetwork> _hosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OwnerSet> _tagOwners = new(StringComparer.OrdinalIgnoreCase);

    private PolicyScope()
    {
    }

    public IReadOnlyDictionary<string, OwnerSet> TagOwners => _tagOwners;

    /// <summary>Set when a rule names autogroup:internet.</summary>
    public bool NamesInternet { get; private set; }

    public static PolicyScope Build(PolicyDocument document)
    {
        var scope = new PolicyScope();
        foreach (var (name, value) in document.Hosts)
        {
            scope.AddHost(name, value);
        }

        foreach (var group in document.Groups)
        {
            scope.AddGroup(group);
        }

        // Every tag is declared before any owner list is read, since a tag may own another tag.
        foreach (var entry in document.TagOwners)
        {
            var tag = ValidTag(entry.Name);
            if (!scope._tagOwners.TryAdd(tag, new OwnerSet()))
            {
                throw entry.Name.Error($"the tag '{tag}' is listed twice in tagOwners (tags ignore case): keep one");
            }
        }

        foreach (var entry in document.TagOwners)
        {
            var owners = scope._tagOwners[entry.Name.Value];
            foreach (var owner in entry.Items)
            {
                if (owner.Value == PolicyNames.AutogroupAdmin)
                {
                    continue; // admins may apply any tag anyway
                }

                scope.AddOwner(owners, owner, "tagOwners");
            }
        }

        return scope;
    }

    /// <summary>Users, groups and tags that may own something (autoApprovers).</summary>
    public OwnerSet Owners(IReadOnlyList<PolicyString> items, string where)
    {
        var owners = new OwnerSet();
        foreach (var item in items)
        {
            AddOwner(owners, item, where);
        }

        return owners;
    }

    public Selector Source(PolicyString text) => Target(text, destination: false);

    /// <summary>"target:ports": the target before the last colon (or an IPv6 address in brackets), the ports after it.</summary>
    public RuleDestination Destination(PolicyString text, IReadOnlyList<int> protocols)
    {
        var value = text.Value;
        string target, ports;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= value.Length || value[close + 1] != ':')
            {
                throw text.Error($"'{value}' is not [IPv6 address]:ports; write it as [fd00::1]:22");
            }

            target = value[1..close];
            ports = value[(close + 2)..];
            if (!PolicyPrefixes.TryParse(target, out _, out _))
            {
                throw text.Error($"only an IPv6 address goes in brackets; '{target}' in '{value}' is not one");
            }
        }
        else
        {
            var colon = value.LastIndexOf(':');
            target = colon < 0 ? value : value[..colon];
            ports = colon < 0 ? string.Empty : value[(colon + 1)..];
            if (colon < 0 || target is "tag" or "group" or "autogroup" || ports.Length == 0)
            {
                throw text.Error($"the destination '{value}' has no ports: write it as target:ports, e.g. '{value.TrimEnd(':')}:22' or '{value.TrimEnd(':')}:*'");
            }
        }

        var at = text with { Value = target };
        var selector = Target(at, destination: true);
        var ranges = PortRange.ParseList(ports, text);
        if (!PolicyProtocols.HavePorts(protocols) && ranges is not [{ First: 0, Last: IpProtocols.MaxPort }])
        {
            throw text.Error($"the rule's proto has no ports, so '{value}' must use '*' for its ports: '{target}:*'");
        }

        return new RuleDestination(selector, ranges);
    }

    /// <summary>A user as a policy names one: "alice@" or "alice@example.com" both mean the Trellis user alice.</summary>
    public static string User(PolicyString text)
    {
        var at = text.Value.IndexOf('@', StringComparison.Ordinal);
        var name = (at < 0 ? text.Value : text.Value[..at]).ToLowerInvariant();
        var valid = name.Length is > 0 and <= MaxUserLength
            && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            && name[0] != '-' && name[^1] != '-';
        return valid
            ? name
            : throw text.Error($"'{text.Value}' is not a user: Trellis users are lowercase names such as alice, written alice@ in a policy");
    }

    public string DefinedTag(PolicyString text)
    {
        var tag = ValidTag(text);
        return _tagOwners.ContainsKey(tag)
            ? tag
            : throw text.Error($"the tag '{tag}' has no entry in tagOwners; add \"{tag}\": [\"alice@\"] there to say who may apply it");
    }

    public IReadOnlySet<string> GroupMembers(PolicyString text) =>
        _groups.TryGetValue(text.Value, out var members)
            ? members
            : throw text.Error($"unknown group '{text.Value}'; define it in \"groups\" (defined: {Known(_groups.Keys)})");

    /// <summary>A host alias or a literal address or prefix, or false when the text is neither.</summary>
    public bool TryAddress(PolicyString text, out IPNetwork prefix)
    {
        if (_hosts.TryGetValue(text.Value, out prefix))
        {
            return true;
        }

        if (PolicyPrefixes.TryParse(text.Value, out prefix, out var error))
        {
            return error is null ? true : throw text.Error(error);
        }

        return false;
    }

    private Selector Target(PolicyString text, bool destination)
    {
        var value = text.Value;
        var role = destination ? "destination" : "source";
        if (value == PolicyNames.Any)
        {
            return new Selector(SelectorKind.All, value);
        }

        if (PolicyNames.IsAutogroup(value))
        {
            return value switch
            {
                PolicyNames.AutogroupMember => new Selector(SelectorKind.Members, value),
                PolicyNames.AutogroupTagged => new Selector(SelectorKind.Tagged, value),
                PolicyNames.AutogroupSelf when destination => new Selector(SelectorKind.Self, value),
                PolicyNames.AutogroupInternet when destination => Internet(value),
                PolicyNames.AutogroupSelf or PolicyNames.AutogroupInternet =>
                    throw text.Error($"{value} can only be a destination (dst), not a source"),
                _ => throw text.Error($"unknown autogroup '{value}' as a {role}; Trellis knows {PolicyNames.AutogroupMember}, {PolicyNames.AutogroupTagged}, {PolicyNames.AutogroupSelf} and {PolicyNames.AutogroupInternet}"),
            };
        }

        if (PolicyNames.IsGroup(value))
        {
            return new Selector(SelectorKind.Users, value) { Users = GroupMembers(text), Group = value };
        }

        if (PolicyNames.IsTag(value))
        {
            return new Selector(SelectorKind.Tag, value) { Tag = DefinedTag(text) };
        }

        if (PolicyNames.IsUser(value))
        {
            return new Selector(SelectorKind.Users, value) { Users = new HashSet<string>(StringComparer.Ordinal) { User(text) } };
        }

        if (TryAddress(text, out var prefix))
        {
            return new Selector(SelectorKind.Prefix, value) { Prefix = prefix };
        }

        throw text.Error($"unknown {role} '{value}': use *, a user (alice@), group:name, tag:name, an autogroup, a host defined in \"hosts\", or an IP address or prefix");
    }

    private Selector Internet(string value)
    {
        NamesInternet = true;
        return new Selector(SelectorKind.Internet, value);
    }

    private void AddHost(PolicyString name, PolicyString value)
    {
        var alias = name.Value;
        if (alias.Length == 0 || alias.Any(c => c is ':' or '@' or '/' or '*' or '[' or ']' || char.IsWhiteSpace(c))
            || PolicyPrefixes.TryParse(alias, out _, out _))
        {
            throw name.Error($"'{alias}' cannot be a host alias: use a plain name such as \"db-primary\"");
        }

        if (!PolicyPrefixes.TryParse(value.Value, out var prefix, out var error))
        {
            throw value.Error($"the host '{alias}' must be an IP address or prefix, such as \"100.64.0.10\" or \"10.1.0.0/16\"; '{value.Value}' is neither");
        }

        _hosts[alias] = error is null ? prefix : throw value.Error(error);
    }

    private void AddGroup(NamedList group)
    {
        var name = group.Name.Value;
        if (!PolicyNames.IsGroup(name) || name.Length == PolicyNames.GroupPrefix.Length)
        {
            throw group.Name.Error($"'{name}' is not a group name: groups are written group:name, e.g. \"group:eng\"");
        }

        var members = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in group.Items)
        {
            if (PolicyNames.IsGroup(member.Value))
            {
                throw member.Error($"'{name}' lists the group '{member.Value}': groups cannot contain groups (as in Tailscale); list its users instead");
            }

            if (!PolicyNames.IsUser(member.Value))
            {
                throw member.Error($"'{name}' lists '{member.Value}': groups hold users only, written alice@ (tags and autogroups belong in rules)");
            }

            members.Add(User(member));
        }

        _groups[name] = members;
    }

    private void AddOwner(OwnerSet owners, PolicyString owner, string where)
    {
        if (PolicyNames.IsTag(owner.Value))
        {
            owners.Tags.Add(DefinedTag(owner));
        }
        else if (PolicyNames.IsGroup(owner.Value))
        {
            owners.Users.UnionWith(GroupMembers(owner));
        }
        else if (PolicyNames.IsUser(owner.Value))
        {
            owners.Users.Add(User(owner));
        }
        else
        {
            throw owner.Error($"'{owner.Value}' cannot be listed in {where}: list users (alice@), groups (group:eng) or tags (tag:ci)");
        }
    }

    private static string ValidTag(PolicyString text)
    {
        var name = text.Value.StartsWith(PolicyNames.TagPrefix, StringComparison.Ordinal) ? text.Value[PolicyNames.TagPrefix.Length..] : string.Empty;
        return name.Length > 0 && char.IsAsciiLetter(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? PolicyNames.TagPrefix + name.ToLowerInvariant()
            : throw text.Error($"'{text.Value}' is not a tag: tags are written tag:name, starting with a letter, e.g. \"tag:server\"");
    }

    private static string Known(IEnumerable<string> names)
    {
        var list = string.Join(", ", names);
        return list.Length == 0 ? "none" : list;
    }
}
