using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Trellis.Control.Sso;

/// <summary>
/// Checks an ID token with Microsoft.IdentityModel (signature by the provider's published keys,
/// issuer, audience, lifetime), then the nonce of the request it answers and the authorized party.
/// </summary>
public static class IdTokenValidation
{
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(2);

    /// <summary>The identity the token vouches for; throws <see cref="SsoException"/> saying what was wrong.</summary>
    public static async Task<SsoIdentity> ValidateAsync(string idToken, IEnumerable<SecurityKey> signingKeys, SsoOptions options, string expectedNonce)
    {
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudience = options.ClientId,
            IssuerSigningKeys = signingKeys,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = ClockSkew,
        };
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(idToken, parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            throw new SsoException(Reason(result.Exception, options), result.Exception);
        }

        var token = (JsonWebToken)result.SecurityToken;
        if (!token.TryGetPayloadValue<string>("nonce", out var nonce) || !FixedTimeEquals(nonce, expectedNonce))
        {
            throw new SsoException("the ID token does not answer this sign-in (its nonce differs); start again from the link trellis up printed");
        }

        var audiences = token.Audiences.ToList();
        if (audiences.Count > 1 && (!token.TryGetPayloadValue<string>("azp", out var azp) || azp != options.ClientId))
        {
            throw new SsoException("the ID token names several audiences but was not issued to this server (azp)");
        }

        if (string.IsNullOrEmpty(token.Subject))
        {
            throw new SsoException("the ID token names no subject");
        }

        var identity = result.ClaimsIdentity;
        var email = identity.FindFirst("email")?.Value;
        var verified = identity.FindFirst("email_verified")?.Value is { } v && bool.TryParse(v, out var b) && b;
        var preferred = identity.FindFirst("preferred_username")?.Value ?? identity.FindFirst("name")?.Value;
        var groups = identity.FindAll(options.GroupsClaim).Select(c => c.Value).Where(g => g.Length > 0).ToList();
        return new SsoIdentity(options.Issuer, token.Subject, email, verified, preferred, groups);
    }

    private static string Reason(Exception? error, SsoOptions options) => error switch
    {
        SecurityTokenInvalidIssuerException => $"the ID token was not issued by {options.Issuer}, the identity provider this server trusts",
        SecurityTokenInvalidAudienceException => "the ID token was issued to another client, not to this server",
        SecurityTokenExpiredException => "the ID token has expired; sign in again",
        SecurityTokenNotYetValidException => "the ID token is not valid yet (is this server's clock right?)",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the ID token's signature does not check out against the identity provider's keys",
        _ => "the ID token is not valid",
    };

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(a)), SHA256.HashData(Encoding.UTF8.GetBytes(b)));
}
