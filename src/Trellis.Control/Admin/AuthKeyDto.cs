using Trellis.Control.Store;

namespace Trellis.Control.Admin;

/// <summary>An auth key as admins see it: its public prefix and state, never the secret.</summary>
public sealed record AuthKeyDto(
    string Prefix,
    string? User,
    IReadOnlyList<string> Tags,
    bool Reusable,
    bool Ephemeral,
    int Uses,
    bool Revoked,
    bool Usable,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset CreatedAt)
{
    public static AuthKeyDto From(AuthKey key, DateTimeOffset now) =>
        new(key.Prefix, key.User?.Name, key.Tags, key.Reusable, key.Ephemeral, key.UseCount, key.Revoked, key.IsUsable(now), key.ExpiresAt, key.CreatedAt);
}

/// <summary>The answer to creating an auth key: the only time the full key is ever shown.</summary>
public sealed record CreatedAuthKeyDto(AuthKeyDto AuthKey, string Key);
