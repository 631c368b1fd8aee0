using System.Security.Cryptography;
using Microsoft.AspNetCore.WebUtilities;

namespace Trellis.Control.Sso;

/// <summary>The secrets of one authorization request: state (the answer's pairing), nonce (the ID token's), PKCE verifier.</summary>
public sealed record SsoRequest(string State, string Nonce, string CodeVerifier)
{
    /// <summary>The S256 challenge sent with the request.</summary>
    public string CodeChallenge => WebEncoders.Base64UrlEncode(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(CodeVerifier)));

    public override string ToString() => "sign-in request";
}
