namespace Trellis.Control.Sso;

/// <summary>Who signed in, as a validated ID token says: keyed by issuer and subject, never by email.</summary>
public sealed record SsoIdentity(string Issuer, string Subject, string? Email, bool EmailVerified, string? PreferredName, IReadOnlyList<string> Groups);
