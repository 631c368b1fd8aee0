using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Microsoft.AspNetCore.Routing;
using Trellis.Control.Store;
using Trellis.Control.WebConsole;

namespace Trellis.Control.Admin;

/// <summary>
/// Who may call the admin API: a request on the server's own admin socket from root or the
/// server's user, one carrying a live API key as "Authorization: Bearer trellis-api-...", or the
/// web console's session cookie (with its CSRF token on every change). The store checks the key's
/// secret in constant time. A console member (not an admin) may only list their own nodes.
/// Changes are logged with who made them, whichever way they came.
/// </summary>
internal sealed partial class AdminAuthentication(ControlStore store, string adminSocket, ILogger logger, ConsoleSessions? sessions = null) : IEndpointFilter
{
    private const string CallerItem = "trellis.admin.caller";
    private const string OwnerItem = "trellis.admin.owner";

    /// <summary>The one endpoint a console member may call.</summary>
    public const string MemberEndpoint = "ListNodes";

    /// <summary>Who made this request ("API key abcd1234", "uid 0 on the local admin socket"), for records such as the policy's author.</summary>
    public static string CallerOf(HttpContext http) => http.Items[CallerItem] as string ?? "an admin";

    /// <summary>The user a console member is, whose nodes alone they may see; null for admins.</summary>
    public static string? OwnerScope(HttpContext http) => http.Items[OwnerItem] as string;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        string caller;
        if (LocalAdminSocket.TrustedUid(http, adminSocket) is { } uid)
        {
            caller = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"uid {uid} on the local admin socket");
        }
        else if (BearerToken(http.Request) is null && sessions is not null && ConsoleCookie.Read(http.Request) is { } cookie)
        {
            var session = sessions.Find(cookie);
            if (session is not null && !await ConsoleKeySignIn.StillValidAsync(session, store, http.RequestAborted).ConfigureAwait(false))
            {
                sessions.Close(cookie);
                session = null;
            }

            if (session is null)
            {
                return AdminResults.Error(StatusCodes.Status401Unauthorized, "your console session has ended; sign in again");
            }

            if (!IsSafe(http.Request.Method) && !ConsoleSessions.CsrfMatches(session, http.Request.Headers[ConsoleCookie.CsrfHeader]))
            {
                LogCsrfRefused(logger, http.Request.Method, http.Request.Path.Value ?? string.Empty, session.Caller);
                return AdminResults.Error(StatusCodes.Status403Forbidden, $"this change carries no valid CSRF token ({ConsoleCookie.CsrfHeader}); reload the console and try again");
            }

            if (!session.IsAdmin)
            {
                if (!IsSafe(http.Request.Method) || http.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName != MemberEndpoint)
                {
                    if (!IsSafe(http.Request.Method))
                    {
                        LogChange(logger, http.Request.Method, http.Request.Path.Value ?? string.Empty, session.Caller, StatusCodes.Status403Forbidden);
                    }

                    return AdminResults.Error(StatusCodes.Status403Forbidden, "only admins may do this; you may list your own devices");
                }

                http.Items[OwnerItem] = session.UserName;
            }

            caller = session.Caller;
        }
        else
        {
            var key = BearerToken(http.Request);
            if (key is null)
            {
                return Unauthorized(http, "an API key is required: send 'Authorization: Bearer trellis-api-...'");
            }

            if (!await store.ValidateApiKeyAsync(key, http.RequestAborted).ConfigureAwait(false))
            {
                return Unauthorized(http, "the API key is invalid or expired");
            }

            caller = SecretKeys.TryParse(key, SecretKeys.ApiKind, out var prefix, out _) ? $"API key {prefix}" : "an API key";
        }

        http.Items[CallerItem] = caller;
        var result = await next(context).ConfigureAwait(false);
        if (!HttpMethods.IsGet(http.Request.Method))
        {
            var status = (result as IStatusCodeHttpResult)?.StatusCode ?? http.Response.StatusCode;
            LogChange(logger, http.Request.Method, http.Request.Path.Value ?? string.Empty, caller, status);
        }

        return result;
    }

    private static bool IsSafe(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : null;
    }

    private static IResult Unauthorized(HttpContext http, string message)
    {
        http.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        return AdminResults.Error(StatusCodes.Status401Unauthorized, message);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "admin {Method} {Path} by {Caller}: {Status}")]
    private static partial void LogChange(ILogger logger, string method, string path, string caller, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "admin {Method} {Path} by {Caller} refused: no valid CSRF token")]
    private static partial void LogCsrfRefused(ILogger logger, string method, string path, string caller);
}
