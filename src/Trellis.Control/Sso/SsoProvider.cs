using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Trellis.Control.Sso;

/// <summary>
/// This server as the provider's client: discovery and signing keys (Microsoft.IdentityModel's
/// configuration manager, cached and refreshed), the authorization request with PKCE, the code
/// redemption, and the ID token's validation (<see cref="IdTokenValidation"/>).
/// </summary>
public sealed class SsoProvider
{
    /// <summary>A token response larger than this is refused unread (an ID token is a few KiB).</summary>
    private const int MaxTokenResponse = 256 * 1024;

    private readonly SsoOptions _options;
    private readonly HttpClient _http;
    private readonly ConfigurationManager<OpenIdConnectConfiguration> _configuration;

    public SsoProvider(SsoOptions options, HttpClient http)
    {
        _options = options;
        _http = http;
        _configuration = new ConfigurationManager<OpenIdConnectConfiguration>(
            options.Issuer.TrimEnd('/') + "/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(http) { RequireHttps = SsoOptionsRules.NeedsHttps(options.Issuer) });
    }

    /// <summary>The provider's metadata, refused when it names another issuer than the configured one.</summary>
    public async Task<OpenIdConnectConfiguration> ConfigurationAsync(CancellationToken cancellationToken)
    {
        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await _configuration.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            throw new SsoException($"the identity provider {_options.Issuer} cannot be reached or gave no usable discovery document", e);
        }

        if (!string.Equals(configuration.Issuer, _options.Issuer, StringComparison.Ordinal))
        {
            throw new SsoException($"the identity provider says its issuer is {configuration.Issuer}, but this server trusts {_options.Issuer}; fix oidc.issuer");
        }

        return configuration;
    }

    /// <summary>Where the browser goes to sign in: the code flow with the request's state, nonce and S256 challenge.</summary>
    public string AuthorizationUrl(OpenIdConnectConfiguration configuration, SsoRequest request, string redirectUri) =>
        QueryHelpers.AddQueryString(configuration.AuthorizationEndpoint, new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = _options.ClientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = string.Join(' ', _options.Scopes),
            ["state"] = request.State,
            ["nonce"] = request.Nonce,
            ["code_challenge"] = request.CodeChallenge,
            ["code_challenge_method"] = "S256",
        });

    /// <summary>Redeems the code (with the PKCE verifier) and validates the ID token it brings.</summary>
    public async Task<SsoIdentity> RedeemAsync(OpenIdConnectConfiguration configuration, string code, SsoRequest request, string redirectUri, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, configuration.TokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["code"] = code,
                ["redirect_uri"] = redirectUri,
                ["code_verifier"] = request.CodeVerifier,
            }),
        };

        // client_secret_basic: both parts form-encoded first (RFC 6749, 2.3.1).
        var credentials = $"{WebUtility.UrlEncode(_options.ClientId)}:{WebUtility.UrlEncode(_options.ClientSecret)}";
        message.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(credentials)));
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var body = await ReadBoundedAsync(response, cancellationToken).ConfigureAwait(false);
        JsonElement json;
        try
        {
            json = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException)
        {
            throw new SsoException($"the identity provider's token endpoint answered {(int)response.StatusCode} with no JSON");
        }

        if (!response.IsSuccessStatusCode || json.ValueKind != JsonValueKind.Object || !json.TryGetProperty("id_token", out var idToken) || idToken.ValueKind != JsonValueKind.String)
        {
            var error = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? SignInResponses.Short(e.GetString()) ?? "" : "no ID token";
            throw new SsoException($"the identity provider refused to redeem the sign-in ({error}); a sign-in link works once: start again from the link trellis up printed");
        }

        try
        {
            return await IdTokenValidation.ValidateAsync(idToken.GetString()!, configuration.SigningKeys, _options, request.Nonce).ConfigureAwait(false);
        }
        catch (SsoException e) when (e.InnerException is SecurityTokenSignatureKeyNotFoundException)
        {
            // The provider may have rotated its keys since they were fetched: fetch once more.
            _configuration.RequestRefresh();
            var fresh = await ConfigurationAsync(cancellationToken).ConfigureAwait(false);
            return await IdTokenValidation.ValidateAsync(idToken.GetString()!, fresh.SigningKeys, _options, request.Nonce).ConfigureAwait(false);
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxTokenResponse)
        {
            throw new SsoException("the identity provider's token response is too large");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxTokenResponse)
            {
                throw new SsoException("the identity provider's token response is too large");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
