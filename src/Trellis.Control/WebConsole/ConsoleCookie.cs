using Microsoft.AspNetCore.Http;

namespace Trellis.Control.WebConsole;

/// <summary>
/// The console's session cookie and the header its CSRF token comes back in. The cookie is
/// HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), and Secure with
/// the __Host- prefix when the server is reached over HTTPS, directly or behind a proxy (public-url).
/// </summary>
public static class ConsoleCookie
{
    public const string Name = "trellis_console";

    /// <summary>A secure cookie's name: browsers take it only over HTTPS, for this host alone, at path /.</summary>
    public const string SecureName = "__Host-" + Name;

    /// <summary>Where the page puts the session's CSRF token on every change (a custom header: no form or link of another site can set it).</summary>
    public const string CsrfHeader = "X-Trellis-Csrf";

    public static string? Read(HttpRequest request) =>
        request.Cookies.TryGetValue(SecureName, out var secure) ? secure
        : request.Cookies.TryGetValue(Name, out var plain) ? plain
        : null;

    public static void Set(HttpContext http, string id, bool secure) =>
        http.Response.Cookies.Append(secure ? SecureName : Name, id, Options(secure, ConsoleSessions.Lifetime));

    public static void Clear(HttpContext http, bool secure) =>
        http.Response.Cookies.Delete(secure ? SecureName : Name, Options(secure, null));

    private static CookieOptions Options(bool secure, TimeSpan? maxAge) => new()
    {
        HttpOnly = true,
        Secure = secure,
        SameSite = SameSiteMode.Strict,
        Path = "/",
        MaxAge = maxAge,
        IsEssential = true,
    };
}
