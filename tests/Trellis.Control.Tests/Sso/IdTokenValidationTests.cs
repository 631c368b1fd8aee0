using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Trellis.Control.Sso;

namespace Trellis.Control.Tests.Sso;

/// <summary>An ID token is believed only when signed by the provider's key, for this server, from the configured issuer, in time, and for this sign-in.</summary>
public sealed class IdTokenValidationTests : IDisposable
{
    private const string Nonce = "nonce-of-this-sign-in";

    private static readonly SsoOptions Options = new() { Issuer = "https://id.example.com", ClientId = "trellis", ClientSecret = "unused", GroupsClaim = "groups" };

    private readonly RSA _providerKey = RSA.Create(2048);
    private readonly RSA _otherKey = RSA.Create(2048);

    public void Dispose()
    {
        _providerKey.Dispose();
        _otherKey.Dispose();
    }

    private SecurityKey[] ProviderKeys => [new RsaSecurityKey(_providerKey) { KeyId = "k1" }];

    private string Token(
        string issuer = "https://id.example.com", string audience = "trellis", string nonce = Nonce, RSA? key = null,
        DateTime? expires = null, Dictionary<string, object>? claims = null)
    {
        var now = DateTime.UtcNow;
        var payload = new Dictionary<string, object>
        {
            ["sub"] = "248289761001",
            ["nonce"] = nonce,
            ["email"] = "alice@example.com",
            ["email_verified"] = true,
            ["groups"] = new[] { "eng", "vpn" },
        };
        foreach (var (name, value) in claims ?? [])
        {
            payload[name] = value;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = claims?.ContainsKey("aud") == true ? null : audience,
            IssuedAt = now.AddMinutes(-10),
            NotBefore = now.AddMinutes(-10),
            Expires = expires ?? now.AddMinutes(10),
            Claims = payload,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key ?? _providerKey) { KeyId = "k1" }, SecurityAlgorithms.RsaSha256),
        });
    }

    private async Task<string> RefusalAsync(string token) =>
        (await Assert.ThrowsAsync<SsoException>(() => IdTokenValidation.ValidateAsync(token, ProviderKeys, Options, Nonce))).Message;

    [Fact]
    public async Task A_good_token_gives_issuer_subject_email_and_groups()
    {
        var identity = await IdTokenValidation.ValidateAsync(Token(), ProviderKeys, Options, Nonce);

        Assert.Equal("https://id.example.com", identity.Issuer);
        Assert.Equal("248289761001", identity.Subject);
        Assert.Equal("alice@example.com", identity.Email);
        Assert.True(identity.EmailVerified);
        Assert.Equal(["eng", "vpn"], identity.Groups);
    }

    [Fact]
    public async Task A_token_from_another_issuer_is_refused() =>
        Assert.Contains("not issued by https://id.example.com", await RefusalAsync(Token(issuer: "https://evil.example.com")), StringComparison.Ordinal);

    [Fact]
    public async Task A_token_for_another_client_is_refused() =>
        Assert.Contains("issued to another client", await RefusalAsync(Token(audience: "someone-else")), StringComparison.Ordinal);

    [Fact]
    public async Task A_token_of_another_sign_in_is_refused_by_its_nonce() =>
        Assert.Contains("nonce differs", await RefusalAsync(Token(nonce: "another")), StringComparison.Ordinal);

    [Fact]
    public async Task A_token_signed_by_another_key_is_refused() =>
        Assert.Contains("signature", await RefusalAsync(Token(key: _otherKey)), StringComparison.Ordinal);

    [Fact]
    public async Task An_expired_token_is_refused() =>
        Assert.Contains("expired", await RefusalAsync(Token(expires: DateTime.UtcNow.AddMinutes(-5))), StringComparison.Ordinal);

    [Fact]
    public async Task An_unsigned_token_is_refused()
    {
        var unsigned = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Options.Issuer,
            Audience = Options.ClientId,
            Expires = DateTime.UtcNow.AddMinutes(10),
            Claims = new Dictionary<string, object> { ["sub"] = "1", ["nonce"] = Nonce },
        });

        await RefusalAsync(unsigned);
    }

    [Fact]
    public async Task A_token_for_several_audiences_must_name_this_server_as_its_party() =>
        Assert.Contains(
            "(azp)",
            await RefusalAsync(Token(claims: new Dictionary<string, object> { ["aud"] = new[] { "trellis", "other" } })),
            StringComparison.Ordinal);
}
