using System.Security.Cryptography;
using Microsoft.AspNetCore.WebUtilities;

namespace Trellis.Control.WebConsole;

/// <summary>
/// Console sessions, in memory: the cookie holds a random 256-bit id, looked up by its SHA-256
/// (a lookup's timing says nothing about a live id). A session ends at sign-out, after
/// <see cref="Lifetime"/> whatever happens, or when the server restarts. Bounded: when full, the
/// session closest to its end makes room.
/// </summary>
public sealed class ConsoleSessions(TimeProvider time, int capacity = ConsoleSessions.DefaultCapacity)
{
    public const int DefaultCapacity = 10_000;

    /// <summary>A working day: an admin signs in again each morning, and admin rights found at sign-in are re-checked then.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    private readonly Lock _lock = new();

    // guarded by _lock
    private readonly Dictionary<string, ConsoleSession> _byIdHash = new(StringComparer.Ordinal);

    /// <summary>A new session; returns the id that goes in the cookie (never stored here).</summary>
    /// <param name="apiKeyPrefix">The API key the session was opened with; <paramref name="notAfter"/> is when that key ends.</param>
    public (string Id, ConsoleSession Session) Open(string userName, string? email, bool isAdmin, string? apiKeyPrefix = null, DateTimeOffset? notAfter = null)
    {
        var id = NewSecret();
        var end = time.GetUtcNow() + Lifetime;
        var session = new ConsoleSession(userName, email, isAdmin, NewSecret(), notAfter < end ? notAfter.Value : end, apiKeyPrefix);
        lock (_lock)
        {
            PruneLocked();
            if (_byIdHash.Count >= capacity)
            {
                var first = _byIdHash.MinBy(s => s.Value.ExpiresAt).Key;
                _byIdHash.Remove(first);
            }

            _byIdHash[Hash(id)] = session;
        }

        return (id, session);
    }

    /// <summary>The live session of a cookie's id, or null.</summary>
    public ConsoleSession? Find(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 128)
        {
            return null;
        }

        lock (_lock)
        {
            if (!_byIdHash.TryGetValue(Hash(id), out var session))
            {
                return null;
            }

            if (session.ExpiresAt <= time.GetUtcNow())
            {
                _byIdHash.Remove(Hash(id));
                return null;
            }

            return session;
        }
    }

    public void Close(string? id)
    {
        if (!string.IsNullOrEmpty(id) && id.Length <= 128)
        {
            lock (_lock)
            {
                _byIdHash.Remove(Hash(id));
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byIdHash.Count;
            }
        }
    }

    /// <summary>The CSRF token a request carried matches the session's (compared in constant time).</summary>
    public static bool CsrfMatches(ConsoleSession session, string? token) =>
        token is not null
        && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)),
            SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(session.CsrfToken)));

    private void PruneLocked()
    {
        var now = time.GetUtcNow();
        foreach (var expired in _byIdHash.Where(s => s.Value.ExpiresAt <= now).Select(s => s.Key).ToList())
        {
            _byIdHash.Remove(expired);
        }
    }

    private static string NewSecret() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    private static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));
}
