using Trellis.Control.Sso;

namespace Trellis.Control.Tests.Sso;

/// <summary>Who may sign in: every configured list must be met, and emails count only when verified.</summary>
public sealed class SsoAccessTests
{
    private static readonly SsoOptions Open = new() { Issuer = "https://id.example.com", ClientId = "c", ClientSecret = "s" };

    private static SsoIdentity Person(string? email = "alice@example.com", bool verified = true, params string[] groups) =>
        new("https://id.example.com", "sub-1", email, verified, null, groups);

    [Fact]
    public void Without_lists_everyone_the_provider_signs_in_is_admitted() => Assert.Null(SsoAccess.Refusal(Person(email: null, verified: false), Open));

    [Fact]
    public void A_domain_list_admits_only_verified_emails_in_it()
    {
        var options = Open with { AllowedDomains = ["example.com"] };

        Assert.Null(SsoAccess.Refusal(Person("Alice@EXAMPLE.com"), options));
        Assert.Contains("not in a domain", SsoAccess.Refusal(Person("carol@elsewhere.test"), options), StringComparison.Ordinal);
        Assert.Contains("no verified email", SsoAccess.Refusal(Person(verified: false), options), StringComparison.Ordinal);
        Assert.Contains("not in a domain", SsoAccess.Refusal(Person("mallory@example.com.evil.test"), options), StringComparison.Ordinal);
    }

    [Fact]
    public void Users_and_groups_must_both_be_met_when_both_are_listed()
    {
        var options = Open with { AllowedUsers = ["alice@example.com"], AllowedGroups = ["vpn"] };

        Assert.Null(SsoAccess.Refusal(Person("alice@example.com", true, "vpn"), options));
        Assert.Contains("none of the groups", SsoAccess.Refusal(Person("alice@example.com", true, "eng"), options), StringComparison.Ordinal);
        Assert.Contains("not among the people", SsoAccess.Refusal(Person("bob@example.com", true, "vpn"), options), StringComparison.Ordinal);
    }
}
