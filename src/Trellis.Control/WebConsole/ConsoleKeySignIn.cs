using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Trellis.Control.Admin;
using Trellis.Control.Store;

namespace Trellis.Control.WebConsole;

/// <summary>
/// Sign-in with an admin API key, for a server without single sign-on or when the provider is
/// down: POST /admin/login/key with {"key": "trellis-api-..."} as JSON (a form of another site
/// cannot send that type without the browser asking this server first, which it never allows).
/// The store checks the secret in constant time; the session is an admin's, named after the key's
/// prefix, and ends when the key does. The key itself is kept nowhere: not in the session, the
/// cookie or the log.
/// </summary>
public static partial class ConsoleKeySignIn
{
    public const string Path = ConsoleEndpoints.Path + "/login/key";

    /// <summary>An API key is ~60 characters; anything much longer is not one.</summary>
    public const int MaxBody = 1024;

    public static void Map(WebApplication app, ConsoleSessions sessions, ControlStore store, bool secureCookie, ILogger logger)
    {
        app.MapPost(Path, async (HttpContext http) =>
            {
                http.Response.Headers.CacheControl = "no-store";
                if (!string.Equals(http.Request.ContentType?.Split(';')[0].Trim(), "application/json", StringComparison.OrdinalIgnoreCase))
                {
                    return AdminResults.Error(StatusCodes.Status415UnsupportedMediaType, "send the key as JSON: {\"key\": \"trellis-api-...\"}");
                }

                var body = await RequestBodies.ReadBoundedAsync(http.Request.Body, http.RequestAborted, MaxBody).ConfigureAwait(false);
                if (body is null)
                {
                    return AdminResults.Error(StatusCodes.Status413PayloadTooLarge, $"the request body is larger than {MaxBody} bytes");
                }

                var key = KeyOf(body);
                if (key is null || !SecretKeys.TryParse(key, SecretKeys.ApiKind, out var prefix, out _))
                {
                    return AdminResults.Error(StatusCodes.Status400BadRequest, "that is not an API key: they look like trellis-api-...");
                }

                var end = await store.ValidateApiKeyAsync(key, http.RequestAborted).ConfigureAwait(false)
                    ? await store.ApiKeyEndAsync(prefix, http.RequestAborted).ConfigureAwait(false)
                    : null;
                if (end is null)
                {
                    LogRefused(logger, prefix);
                    return AdminResults.Error(StatusCodes.Status401Unauthorized, "the API key is invalid or expired");
                }

                var (id, session) = sessions.Open($"API key {prefix}", null, isAdmin: true, apiKeyPrefix: prefix, notAfter: end);
                ConsoleCookie.Set(http, id, secureCookie);
                LogSignedIn(logger, session.Caller);
                return Results.NoContent();
            })
            .ExcludeFromDescription();
    }

    /// <summary>Whether a session opened with an API key may go on: its key is still live. Other sessions always may.</summary>
    public static async Task<bool> StillValidAsync(ConsoleSession session, ControlStore store, CancellationToken cancellationToken) =>
        session.ApiKeyPrefix is not { } prefix || await store.ApiKeyEndAsync(prefix, cancellationToken).ConfigureAwait(false) is not null;

    private static string? KeyOf(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("key", out var key) && key.ValueKind == JsonValueKind.String
                ? key.GetString()?.Trim()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "console: {Caller} signed in")]
    private static partial void LogSignedIn(ILogger logger, string caller);

    [LoggerMessage(Level = LogLevel.Warning, Message = "console: sign-in with API key {Prefix} refused: invalid or expired")]
    private static partial void LogRefused(ILogger logger, string prefix);
}
