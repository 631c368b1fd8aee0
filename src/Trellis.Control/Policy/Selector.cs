using System.Net;

namespace Trellis.Control.Policy;

internal enum SelectorKind
{
    /// <summary>"*": every node and, as a source, any address (traffic from subnets behind routers too).</summary>
    All,

    /// <summary>A user or a group, expanded to user names: their untagged nodes.</summary>
    Users,

    Tag,

    /// <summary>autogroup:member: every untagged node that has a user.</summary>
    Members,

    /// <summary>autogroup:tagged: every tagged node.</summary>
    Tagged,

    /// <summary>autogroup:self (destinations only): the source user's own untagged nodes.</summary>
    Self,

    /// <summary>
    /// autogroup:internet (destinations only): the public internet through exit nodes (see <see cref="InternetAccess"/>).
    /// </summary>
    Internet,

    /// <summary>An IP address, a prefix or a host alias: node addresses inside it and subnet routes it names.</summary>
    Prefix,
}

/// <summary>A resolved source or destination of a rule: who or what it names, groups already expanded.</summary>
internal sealed record Selector(SelectorKind Kind, string Text)
{
    public IReadOnlySet<string> Users { get; init; } = new HashSet<string>();

    /// <summary>For a group: its name, which also takes in the users the identity provider puts in it (<see cref="PolicyNode.Groups"/>).</summary>
    public string? Group { get; init; }

    public string Tag { get; init; } = string.Empty;

    public IPNetwork Prefix { get; init; }

    /// <summary>Whether the node is named by who it is (kinds other than prefixes, which go by address).</summary>
    public bool NamesNode(PolicyNode node) => Kind switch
    {
        SelectorKind.All => true,
        SelectorKind.Users => !node.IsTagged && node.User is { } user && (Users.Contains(user) || (Group is { } group && node.Groups.Contains(group, StringComparer.Ordinal))),
        SelectorKind.Tag => node.Tags.Contains(Tag, StringComparer.OrdinalIgnoreCase),
        SelectorKind.Members => !node.IsTagged && node.User is not null,
        SelectorKind.Tagged => node.IsTagged,
        SelectorKind.Prefix => PolicyPrefixes.Touches(Prefix, node),
        _ => false,
    };
}
