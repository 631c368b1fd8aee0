namespace Trellis.Control.Store;

/// <summary>
/// A pre-authorised registration key. The full key ("trellis-auth-{prefix}-{secret}") is shown once
/// at creation; only the SHA-256 of its secret part is stored, so a leaked database registers nothing.
/// </summary>
public sealed class AuthKey
{
    public long Id { get; set; }

    /// <summary>Public identifier, unique: how admins name the key and how registration finds the row.</summary>
    public required string Prefix { get; set; }

    public required byte[] SecretHash { get; set; }

    /// <summary>The owning user, or null when the key carries <see cref="Tags"/> instead.</summary>
    public long? UserId { get; set; }

    public User? User { get; set; }

    public bool Reusable { get; set; }

    /// <summary>Nodes registered with this key are removed once they stay offline long enough.</summary>
    public bool Ephemeral { get; set; }

    /// <summary>"tag:name" entries; nodes registered with the key are owned by these tags.</summary>
    public List<string> Tags { get; set; } = [];

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public int UseCount { get; set; }

    /// <summary>Set by an admin expiring the key; a revoked key registers nothing more.</summary>
    public bool Revoked { get; set; }

    public bool IsUsable(DateTimeOffset now) =>
        !Revoked && (ExpiresAt is not { } expiry || expiry > now) && (Reusable || UseCount == 0);
}
