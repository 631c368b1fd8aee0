namespace Trellis.Control.Store;

/// <summary>A person or service account: owns nodes and the auth keys that register them.</summary>
public sealed class User
{
    public long Id { get; set; }

    /// <summary>Unique, a lowercase DNS label (it can appear in node DNS names).</summary>
    public required string Name { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// The identity provider that vouches for this user (single sign-on); with <see cref="IdentitySubject"/>
    /// the user's key. Null for users an admin created.
    /// </summary>
    public string? IdentityIssuer { get; set; }

    /// <summary>The provider's stable id of the person ("sub"); an email may change hands, this may not.</summary>
    public string? IdentitySubject { get; set; }

    /// <summary>The email the provider gave at the last sign-in: shown to people, never used as a key.</summary>
    public string? Email { get; set; }

    /// <summary>The provider's groups at the last sign-in; the policy's group:NAME includes its members.</summary>
    public List<string> IdentityGroups { get; set; } = [];

    /// <summary>The longest issuer and subject kept (both are URLs or opaque ids; OpenID Connect caps sub at 255 ASCII characters).</summary>
    public const int MaxIdentityLength = 255;
}
