namespace Trellis.Control.Sso;

/// <summary>What the server accepts as an identity provider's address.</summary>
public static class SsoOptionsRules
{
    /// <summary>An https URL, or an http one on loopback (a provider on this host, as in tests): tokens never cross a network in the clear.</summary>
    public static bool IsAcceptableIssuer(string issuer) =>
        Uri.TryCreate(issuer, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));

    public static bool NeedsHttps(string issuer) => !(Uri.TryCreate(issuer, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback);
}
