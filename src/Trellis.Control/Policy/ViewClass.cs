using System.Net;

namespace Trellis.Control.Policy;

/// <summary>
/// What a node's visible peers depend on: its owner (a user, or its tags) and which of the policy's
/// address prefixes touch it. Nodes of one class see the same peers, apart from not seeing themselves,
/// so a view is computed once per class (a user's devices, the servers of one tag), not once per node.
/// A tagged node's user is left out: every rule that names users looks at untagged nodes only.
/// </summary>
internal sealed class ViewClass : IEquatable<ViewClass>
{
    private readonly string? _user;
    private readonly IReadOnlyList<string> _tags;
    private readonly int[] _touched;
    private readonly int _hash;

    private ViewClass(string? user, IReadOnlyList<string> tags, int[] touched)
    {
        _user = user;
        _tags = tags;
        _touched = touched;
        var hash = new HashCode();
        hash.Add(user, StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            hash.Add(tag, StringComparer.Ordinal);
        }

        foreach (var index in touched)
        {
            hash.Add(index);
        }

        _hash = hash.ToHashCode();
    }

    /// <summary>The class of <paramref name="node"/> under a policy whose rules name <paramref name="prefixes"/>.</summary>
    public static ViewClass Of(PolicyNode node, IReadOnlyList<IPNetwork> prefixes)
    {
        var touched = new List<int>();
        for (var i = 0; i < prefixes.Count; i++)
        {
            if (PolicyPrefixes.Touches(prefixes[i], node))
            {
                touched.Add(i);
            }
        }

        return new ViewClass(node.IsTagged ? null : node.User, node.Tags, [.. touched]);
    }

    public bool Equals(ViewClass? other) =>
        other is not null
        && _hash == other._hash
        && string.Equals(_user, other._user, StringComparison.Ordinal)
        && _tags.SequenceEqual(other._tags, StringComparer.Ordinal)
        && _touched.AsSpan().SequenceEqual(other._touched);

    public override bool Equals(object? obj) => Equals(obj as ViewClass);

    public override int GetHashCode() => _hash;
}
