using Trellis.Control.Sso;

namespace Trellis.Control.WebConsole;

/// <summary>
/// Who is an admin in the console: a person whose verified email is in oidc.admin-users, or who is
/// in one of oidc.admin-groups by the provider's groups claim. Everyone else who may sign in is a
/// member and sees only their own devices.
/// </summary>
public static class ConsoleRoles
{
    public static bool IsAdmin(SsoIdentity identity, SsoOptions options) =>
        (identity.EmailVerified && identity.Email is { } email && options.AdminUsers.Contains(email, StringComparer.OrdinalIgnoreCase))
        || identity.Groups.Any(g => options.AdminGroups.Contains(g, StringComparer.Ordinal));
}
