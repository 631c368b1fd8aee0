namespace Trellis.Control.Sso;

/// <summary>
/// Who may sign in: each list that is configured must be satisfied (a domain, a listed email, a
/// group); emails count only when the provider verified them.
/// </summary>
public static class SsoAccess
{
    /// <summary>Why this identity may not sign in, or null when it may.</summary>
    public static string? Refusal(SsoIdentity identity, SsoOptions options)
    {
        var needsEmail = options.AllowedDomains.Count > 0 || options.AllowedUsers.Count > 0;
        if (needsEmail && (identity.Email is null || !identity.EmailVerified))
        {
            return "this server admits people by their email, and the identity provider gave no verified email for you";
        }

        var email = identity.Email ?? "";
        var domain = email[(email.LastIndexOf('@') + 1)..];
        if (options.AllowedDomains.Count > 0 && !options.AllowedDomains.Contains(domain, StringComparer.OrdinalIgnoreCase))
        {
            return $"{email} is not in a domain this server admits ({string.Join(", ", options.AllowedDomains)})";
        }

        if (options.AllowedUsers.Count > 0 && !options.AllowedUsers.Contains(email, StringComparer.OrdinalIgnoreCase))
        {
            return $"{email} is not among the people this server admits";
        }

        if (options.AllowedGroups.Count > 0 && !identity.Groups.Any(g => options.AllowedGroups.Contains(g, StringComparer.Ordinal)))
        {
            return "you are in none of the groups this server admits";
        }

        return null;
    }
}
