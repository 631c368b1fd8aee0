using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Sso;

namespace Trellis.Control.WebConsole;

/// <summary>
/// A person's sign-in to the console: /admin/login sends the browser to the provider (code flow,
/// PKCE, state, nonce, as a node's sign-in); its answer comes back to the shared callback, which
/// hands it here when the state is a console one. The person must pass the same
/// <see cref="SsoAccess"/> checks as for a node; the user is recorded (or refreshed) by issuer and
/// subject, and a session cookie is set.
/// </summary>
public sealed partial class ConsoleSignInFlow(
    ConsoleSignIns signIns, ConsoleSessions sessions, SsoProvider provider, SsoOptions options, ControlService control, string callbackUrl, bool secureCookie, ILogger logger)
{
    public async Task<IResult> StartAsync(HttpContext http)
    {
        SignInResponses.NoStore(http);
        var request = signIns.Begin();
        if (request is null)
        {
            return Refused(StatusCodes.Status503ServiceUnavailable, "too many sign-ins are in progress at once; try again in a few minutes");
        }

        try
        {
            var configuration = await provider.ConfigurationAsync(http.RequestAborted).ConfigureAwait(false);
            return Results.Redirect(provider.AuthorizationUrl(configuration, request, callbackUrl));
        }
        catch (SsoException e)
        {
            LogFailed(logger, e.Message);
            return Refused(StatusCodes.Status502BadGateway, e.Message);
        }
    }

    /// <summary>The console request an answer's state belongs to (spent), or null when it is not a console sign-in.</summary>
    public SsoRequest? Take(string state) => signIns.Take(state);

    public async Task<IResult> FinishAsync(HttpContext http, SsoRequest request, string? code, string? error)
    {
        SignInResponses.NoStore(http);
        if (error is not null || code is null)
        {
            return Refused(StatusCodes.Status403Forbidden, $"the identity provider did not sign you in ({SignInResponses.Short(error) ?? "no code"})");
        }

        try
        {
            var configuration = await provider.ConfigurationAsync(http.RequestAborted).ConfigureAwait(false);
            var identity = await provider.RedeemAsync(configuration, code, request, callbackUrl, http.RequestAborted).ConfigureAwait(false);
            if (SsoAccess.Refusal(identity, options) is { } refusal)
            {
                LogRefused(logger, identity.Subject, identity.Issuer, refusal);
                return Refused(StatusCodes.Status403Forbidden, refusal);
            }

            var user = await control.SignInToConsoleAsync(identity).ConfigureAwait(false);
            if (!user.Succeeded)
            {
                return Refused(StatusCodes.Status409Conflict, user.Message ?? "your user could not be recorded");
            }

            var (id, session) = sessions.Open(user.Value.Name, identity.EmailVerified ? identity.Email : null, ConsoleRoles.IsAdmin(identity, options));
            ConsoleCookie.Set(http, id, secureCookie);
            LogSignedIn(logger, session.Caller, identity.Issuer);
            return Results.Redirect(ConsoleEndpoints.Path + "/");
        }
        catch (SsoException e)
        {
            LogFailed(logger, e.Message);
            return Refused(StatusCodes.Status403Forbidden, e.Message);
        }
    }

    private static IResult Refused(int status, string reason) =>
        Results.Content(SsoPages.ConsoleRefused(reason), "text/html; charset=utf-8", statusCode: status);

    [LoggerMessage(Level = LogLevel.Information, Message = "console: {Caller} signed in through {Issuer}")]
    private static partial void LogSignedIn(ILogger logger, string caller, string issuer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "console sign-in: subject {Subject} of {Issuer} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string subject, string issuer, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "console sign-in failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
