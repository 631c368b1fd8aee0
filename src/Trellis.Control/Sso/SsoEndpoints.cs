using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Trellis.Control.NodeProtocol;
using Trellis.Control.WebConsole;

namespace Trellis.Control.Sso;

/// <summary>
/// The browser's side of a node's sign-in: the link trellis up printed (<see cref="SsoLogins.StartPath"/>)
/// sends it to the provider; the provider sends it back (<see cref="SsoLogins.CallbackPath"/>) with a
/// code, which is redeemed here, server to provider, and the waiting node is let in for the user.
/// </summary>
public static partial class SsoEndpoints
{
    /// <param name="console">The web console's sign-ins, which share the callback (null when the console is off).</param>
    public static void Map(WebApplication app, SsoLogins logins, SsoProvider provider, SsoOptions options, ControlService control, ILogger logger, ConsoleSignInFlow? console = null)
    {
        app.MapGet(SsoLogins.StartPath + "{id}", async (string id, HttpContext context) =>
        {
            SignInResponses.NoStore(context);
            var request = logins.Begin(id);
            if (request is null)
            {
                return Refused(StatusCodes.Status404NotFound, "this sign-in link is unknown or has expired; run trellis up on the node again for a new one");
            }

            try
            {
                var configuration = await provider.ConfigurationAsync(context.RequestAborted).ConfigureAwait(false);
                return Results.Redirect(provider.AuthorizationUrl(configuration, request, logins.CallbackUrl));
            }
            catch (SsoException e)
            {
                LogProviderFailed(logger, e.Message);
                return Refused(StatusCodes.Status502BadGateway, e.Message);
            }
        });

        app.MapGet(SsoLogins.CallbackPath, async (HttpContext context) =>
        {
            SignInResponses.NoStore(context);
            var query = context.Request.Query;
            string? state = query["state"], code = query["code"], error = query["error"];
            var login = state is null ? null : logins.Take(state);
            if (login?.Request is not { } request)
            {
                if (state is not null && console?.Take(state) is { } consoleRequest)
                {
                    return await console.FinishAsync(context, consoleRequest, code, error).ConfigureAwait(false);
                }

                LogUnknownState(logger);
                return Refused(StatusCodes.Status400BadRequest, "this answer belongs to no sign-in in progress (its state is unknown, altered or already used); start again from the link trellis up printed");
            }

            if (error is not null || code is null)
            {
                return Refused(StatusCodes.Status403Forbidden, $"the identity provider did not sign you in ({SignInResponses.Short(error) ?? "no code"})");
            }

            try
            {
                var configuration = await provider.ConfigurationAsync(context.RequestAborted).ConfigureAwait(false);
                var identity = await provider.RedeemAsync(configuration, code, request, logins.CallbackUrl, context.RequestAborted).ConfigureAwait(false);
                if (SsoAccess.Refusal(identity, options) is { } refusal)
                {
                    LogRefused(logger, identity.Subject, identity.Issuer, refusal);
                    logins.Finish(login);
                    return Refused(StatusCodes.Status403Forbidden, refusal);
                }

                var registered = await control.CompleteSignInAsync(login.NodeId, login.NodeKey, identity, options.NodeKeyExpiry).ConfigureAwait(false);
                logins.Finish(login);
                if (!registered.Succeeded)
                {
                    return Refused(StatusCodes.Status409Conflict, registered.Message);
                }

                var (node, user, renewed) = registered.Value;
                return Results.Content(renewed ? SsoPages.Renewed(node.Name, node.KeyExpiry) : SsoPages.Registered(node.Name, user.Name), "text/html; charset=utf-8");
            }
            catch (SsoException e)
            {
                LogSignInFailed(logger, e.Message);
                return Refused(StatusCodes.Status403Forbidden, e.Message);
            }
        });
    }

    private static IResult Refused(int status, string reason) =>
        Results.Content(SsoPages.Refused(reason), "text/html; charset=utf-8", statusCode: status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "single sign-on: {Reason}")]
    private static partial void LogProviderFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "single sign-on: an answer came back with no sign-in in progress for its state (unknown, altered, replayed or expired)")]
    private static partial void LogUnknownState(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "single sign-on: subject {Subject} of {Issuer} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string subject, string issuer, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "single sign-on failed: {Reason}")]
    private static partial void LogSignInFailed(ILogger logger, string reason);
}
