using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Trellis.Control.Admin;
using Trellis.Control.Sso;
using Trellis.Control.Store;

namespace Trellis.Control.WebConsole;

/// <summary>
/// The web console at /admin: its static page, sign-in through the server's identity provider
/// (when it has one) or with an admin API key (<see cref="ConsoleKeySignIn"/>), the session the page reads, and sign-out. Everything the page shows or changes goes through the
/// REST admin API (<see cref="AdminApi"/>), which accepts the session cookie with its CSRF token.
/// </summary>
public static partial class ConsoleEndpoints
{
    public const string Path = "/admin";

    /// <param name="flow">Sign-in at the identity provider; null when the server has no single sign-on (API keys only).</param>
    public static void Map(WebApplication app, ConsoleSignInFlow? flow, ConsoleSessions sessions, ControlStore store, bool secureCookie, ILogger logger)
    {
        // Routing takes /admin and /admin/ for one path; the page's relative links need the slash.
        app.MapGet(Path, (HttpContext http) => http.Request.Path.Value?.EndsWith('/') == true
                ? ConsoleAssets.Serve(http, "index.html")
                : Results.Redirect(Path + "/"))
            .ExcludeFromDescription();
        app.MapGet(Path + "/console.js", (HttpContext http) => ConsoleAssets.Serve(http, "console.js")).ExcludeFromDescription();
        app.MapGet(Path + "/console.css", (HttpContext http) => ConsoleAssets.Serve(http, "console.css")).ExcludeFromDescription();

        if (flow is not null)
        {
            Func<HttpContext, Task<IResult>> signIn = flow.StartAsync; // a Delegate, so its result is written (not a RequestDelegate)
            app.MapGet(Path + "/login", signIn).ExcludeFromDescription();
        }

        // Which ways in the sign-in page offers.
        var methods = new ConsoleSignInMethodsDto(SingleSignOn: flow is not null, ApiKey: true);
        app.MapGet(Path + "/signin-methods", () => Results.Json(methods, ConsoleJsonContext.Default.ConsoleSignInMethodsDto)).ExcludeFromDescription();
        ConsoleKeySignIn.Map(app, sessions, store, secureCookie, logger);

        app.MapGet(Path + "/session", (HttpContext http) =>
            {
                http.Response.Headers.CacheControl = "no-store";
                var session = sessions.Find(ConsoleCookie.Read(http.Request));
                return session is null
                    ? AdminResults.Error(StatusCodes.Status401Unauthorized, "not signed in")
                    : Results.Json(
                        new ConsoleSessionDto(session.UserName, session.Email, session.IsAdmin, session.CsrfToken, session.ExpiresAt),
                        ConsoleJsonContext.Default.ConsoleSessionDto);
            })
            .ExcludeFromDescription();

        app.MapPost(Path + "/logout", (HttpContext http) =>
            {
                var id = ConsoleCookie.Read(http.Request);
                var session = sessions.Find(id);
                if (session is null)
                {
                    ConsoleCookie.Clear(http, secureCookie);
                    return Results.NoContent();
                }

                if (!ConsoleSessions.CsrfMatches(session, http.Request.Headers[ConsoleCookie.CsrfHeader]))
                {
                    return AdminResults.Error(StatusCodes.Status403Forbidden, $"sign-out needs the session's CSRF token in {ConsoleCookie.CsrfHeader}; reload the console");
                }

                sessions.Close(id);
                ConsoleCookie.Clear(http, secureCookie);
                LogSignedOut(logger, session.Caller);
                return Results.NoContent();
            })
            .ExcludeFromDescription();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "console: {Caller} signed out")]
    private static partial void LogSignedOut(ILogger logger, string caller);
}
