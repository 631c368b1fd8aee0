using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Trellis.Control.Store;

namespace Trellis.Control.Admin;

/// <summary>
/// Who may call the admin API: a request on the server's own admin socket from root or the
/// server's user, or one carrying a live API key as "Authorization: Bearer trellis-api-...".
/// The store checks the key's secret in constant time. Changes are logged with who made them.
/// </summary>
internal sealed partial class AdminAuthentication(ControlStore store, string adminSocket, ILogger logger) : IEndpointFilter
{
    private const string CallerItem = "trellis.admin.caller";

    /// <summary>Who made this request ("API key abcd1234", "uid 0 on the local admin socket"), for records such as the policy's author.</summary>
    public static string CallerOf(HttpContext http) => http.Items[CallerItem] as string ?? "an admin";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        string caller;
        if (LocalAdminSocket.TrustedUid(http, adminSocket) is { } uid)
        {
            caller = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"uid {uid} on the local admin socket");
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
}
