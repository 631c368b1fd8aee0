namespace Trellis.Control.Sso;

/// <summary>
/// Single sign-on with an OpenID Connect provider (the server file's `oidc:` section). The client
/// secret comes from a file or TRELLIS_OIDC_CLIENT_SECRET, never from a flag or the file itself.
/// </summary>
public sealed record SsoOptions
{
    /// <summary>The provider's issuer URL, exactly as its discovery document and ID tokens say it.</summary>
    public required string Issuer { get; init; }

    public required string ClientId { get; init; }

    /// <summary>Never logged nor shown (<see cref="ToString"/> leaves it out).</summary>
    public required string ClientSecret { get; init; }

    public IReadOnlyList<string> Scopes { get; init; } = DefaultScopes;

    /// <summary>When set, only verified emails in these domains may sign in.</summary>
    public IReadOnlyList<string> AllowedDomains { get; init; } = [];

    /// <summary>When set, only these verified emails may sign in.</summary>
    public IReadOnlyList<string> AllowedUsers { get; init; } = [];

    /// <summary>When set, only members of one of these provider groups may sign in.</summary>
    public IReadOnlyList<string> AllowedGroups { get; init; } = [];

    /// <summary>People whose verified email is listed here are admins in the web console.</summary>
    public IReadOnlyList<string> AdminUsers { get; init; } = [];

    /// <summary>Members of one of these provider groups are admins in the web console.</summary>
    public IReadOnlyList<string> AdminGroups { get; init; } = [];

    /// <summary>The ID token claim that lists the person's groups.</summary>
    public string GroupsClaim { get; init; } = "groups";

    /// <summary>How long the node key of a node registered by sign-in lives; null for the server's node-key-expiry.</summary>
    public TimeSpan? NodeKeyExpiry { get; init; } = DefaultNodeKeyExpiry;

    /// <summary>A sign-in not finished within this is forgotten (the node asks again and gets a new link).</summary>
    public TimeSpan LoginTimeout { get; init; } = DefaultLoginTimeout;

    public static readonly IReadOnlyList<string> DefaultScopes = ["openid", "profile", "email"];

    public static readonly TimeSpan DefaultNodeKeyExpiry = TimeSpan.FromDays(180);

    public static readonly TimeSpan DefaultLoginTimeout = TimeSpan.FromMinutes(10);

    public override string ToString() => $"oidc issuer {Issuer}, client {ClientId}";
}
