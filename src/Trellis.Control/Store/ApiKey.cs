namespace Trellis.Control.Store;

/// <summary>
/// An admin API key ("trellis-api-{prefix}-{secret}", shown once); like auth keys, only the
/// SHA-256 of the secret is kept.
/// </summary>
public sealed class ApiKey
{
    public long Id { get; set; }

    public required string Prefix { get; set; }

    public required byte[] SecretHash { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }
}
