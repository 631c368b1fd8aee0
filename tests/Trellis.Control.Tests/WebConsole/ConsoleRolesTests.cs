using Trellis.Control.Sso;
using Trellis.Control.WebConsole;

namespace Trellis.Control.Tests.WebConsole;

/// <summary>Admins are named in the oidc section by verified email or by the provider's group; nobody else is one.</summary>
public sealed class ConsoleRolesTests
{
    private static readonly SsoOptions Options = new()
    {
        Issuer = "https://id.example.com",
        ClientId = "trellis",
        ClientSecret = "secret",
        AdminUsers = ["Lead@Example.com"],
        AdminGroups = ["vpn-admins"],
    };

    private static SsoIdentity Person(string? email, bool verified, params string[] groups) =>
        new("https://id.example.com", "subject", email, verified, null, groups);

    [Fact]
    public void An_admin_is_a_listed_verified_email_or_a_member_of_an_admin_group()
    {
        Assert.True(ConsoleRoles.IsAdmin(Person("lead@example.com", verified: true), Options));
        Assert.True(ConsoleRoles.IsAdmin(Person("dev@example.com", verified: false, "eng", "vpn-admins"), Options));
    }

    [Fact]
    public void An_unverified_email_a_group_of_another_case_or_nothing_listed_is_not_an_admin()
    {
        Assert.False(ConsoleRoles.IsAdmin(Person("lead@example.com", verified: false), Options));
        Assert.False(ConsoleRoles.IsAdmin(Person("dev@example.com", verified: true, "VPN-ADMINS"), Options));
        Assert.False(ConsoleRoles.IsAdmin(Person("lead@example.com", verified: true), Options with { AdminUsers = [], AdminGroups = [] }));
    }
}
