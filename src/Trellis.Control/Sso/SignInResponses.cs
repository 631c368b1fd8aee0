using Microsoft.AspNetCore.Http;

namespace Trellis.Control.Sso;

/// <summary>What every sign-in page (a node's and the console's) does alike.</summary>
internal static class SignInResponses
{
    /// <summary>Sign-in pages are one person's: never cached, and the link never leaks to another site as a referrer.</summary>
    public static void NoStore(HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
    }

    /// <summary>A provider's error text, cut to a length a page or a log line can show.</summary>
    public static string? Short(string? text) => text is null ? null : text.Length <= 80 ? text : text[..80];
}
