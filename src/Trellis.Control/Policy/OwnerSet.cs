namespace Trellis.Control.Policy;

/// <summary>Who a tagOwners or autoApprovers entry names: users (groups expanded) and tags.</summary>
internal sealed class OwnerSet
{
    public HashSet<string> Users { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Tags { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether the node belongs to a listed owner: a tagged node by its tags, an untagged one by its user.</summary>
    public bool Owns(PolicyNode node) =>
        node.IsTagged ? node.Tags.Any(Tags.Contains) : node.User is { } user && Users.Contains(user);
}
