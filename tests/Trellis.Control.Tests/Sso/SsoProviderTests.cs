using Trellis.Control.Sso;
using Trellis.Control.Tests.TestDoubles;

namespace Trellis.Control.Tests.Sso;

/// <summary>The provider's discovery document must name the issuer this server trusts; the authorization request carries PKCE, state and nonce.</summary>
public sealed class SsoProviderTests
{
    private const string Issuer = "https://id.example.com";

    private static readonly SsoOptions Options = new() { Issuer = Issuer, ClientId = "trellis", ClientSecret = "secret", Scopes = ["openid", "email"] };

    private static SsoProvider Provider(string documentIssuer)
    {
        var handler = new StaticHttpHandler(new()
        {
            [Issuer + "/.well-known/openid-configuration"] = $$"""
                { "issuer": "{{documentIssuer}}", "authorization_endpoint": "{{Issuer}}/auth", "token_endpoint": "{{Issuer}}/token", "jwks_uri": "{{Issuer}}/jwks" }
                """,
            [Issuer + "/jwks"] = """{ "keys": [] }""",
        });
        return new SsoProvider(Options, new HttpClient(handler));
    }

    [Fact]
    public async Task A_provider_that_names_another_issuer_is_refused()
    {
        var e = await Assert.ThrowsAsync<SsoException>(() => Provider("https://evil.example.com").ConfigurationAsync(CancellationToken.None));

        Assert.Contains("says its issuer is https://evil.example.com, but this server trusts https://id.example.com", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_authorization_request_is_the_code_flow_with_S256_state_and_nonce()
    {
        var provider = Provider(Issuer);
        var configuration = await provider.ConfigurationAsync(CancellationToken.None);
        var request = new SsoRequest("the-state", "the-nonce", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");

        var url = new Uri(provider.AuthorizationUrl(configuration, request, "https://vpn.example.com/oidc/callback"));
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);

        Assert.Equal("https://id.example.com/auth", url.GetLeftPart(UriPartial.Path));
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("trellis", query["client_id"]);
        Assert.Equal("openid email", query["scope"]);
        Assert.Equal("the-state", query["state"]);
        Assert.Equal("the-nonce", query["nonce"]);
        Assert.Equal("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", query["code_challenge"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal("https://vpn.example.com/oidc/callback", query["redirect_uri"]);
        Assert.DoesNotContain("secret", url.Query, StringComparison.Ordinal);
    }
}
