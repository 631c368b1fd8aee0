using Trellis.Control.Store;

namespace Trellis.Control.Admin;

/// <summary>An admin API key as listed: prefix and dates, never the secret.</summary>
public sealed record ApiKeyDto(string Prefix, DateTimeOffset? ExpiresAt, bool Expired, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt)
{
    public static ApiKeyDto From(ApiKey key, DateTimeOffset now) =>
        new(key.Prefix, key.ExpiresAt, key.ExpiresAt is { } expiry && expiry <= now, key.CreatedAt, key.LastUsedAt);
}

/// <summary>The answer to creating an API key: the only time the full key is ever shown.</summary>
public sealed record CreatedApiKeyDto(ApiKeyDto ApiKey, string Key);
