namespace Trellis.Control.WebConsole;

/// <summary>
/// One person signed in to the web console. Whether they are an admin is decided at sign-in
/// (<see cref="ConsoleRoles"/>) and holds for the session's life; the CSRF token is sent back by
/// the page in a header with every change. A session opened with an API key names the key's
/// prefix (never the key): it ends when the key does.
/// </summary>
public sealed record ConsoleSession(string UserName, string? Email, bool IsAdmin, string CsrfToken, DateTimeOffset ExpiresAt, string? ApiKeyPrefix = null)
{
    /// <summary>How the audit log names this caller.</summary>
    public string Caller => $"console user {UserName}{(Email is null ? "" : $" <{Email}>")}{(IsAdmin ? " (admin)" : "")}";

    public override string ToString() => Caller;
}
