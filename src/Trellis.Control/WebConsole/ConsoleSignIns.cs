using System.Security.Cryptography;
using Microsoft.AspNetCore.WebUtilities;
using Trellis.Control.Sso;

namespace Trellis.Control.WebConsole;

/// <summary>
/// Console sign-ins waiting for the identity provider's answer: each authorization request's
/// state, nonce and PKCE verifier, found by the state's SHA-256 and spent on first use. They share
/// the provider's one redirect URI with nodes' sign-ins (<see cref="SsoLogins.CallbackPath"/>): the
/// state says which kind an answer belongs to. Bounded in number and in time.
/// </summary>
public sealed class ConsoleSignIns(TimeProvider time, TimeSpan timeout, int capacity = ConsoleSignIns.DefaultCapacity)
{
    public const int DefaultCapacity = 1000;

    private readonly Lock _lock = new();

    // guarded by _lock
    private readonly Dictionary<string, (SsoRequest Request, DateTimeOffset ExpiresAt)> _byState = new(StringComparer.Ordinal);

    /// <summary>A new authorization request, or null when too many are open at once.</summary>
    public SsoRequest? Begin()
    {
        var request = new SsoRequest(NewSecret(), NewSecret(), NewSecret());
        lock (_lock)
        {
            PruneLocked();
            if (_byState.Count >= capacity)
            {
                return null;
            }

            _byState[Hash(request.State)] = (request, time.GetUtcNow() + timeout);
        }

        return request;
    }

    /// <summary>The request an answer's state belongs to, spent: a replayed answer finds nothing.</summary>
    public SsoRequest? Take(string state)
    {
        lock (_lock)
        {
            PruneLocked();
            return _byState.Remove(Hash(state), out var open) ? open.Request : null;
        }
    }

    private void PruneLocked()
    {
        var now = time.GetUtcNow();
        foreach (var expired in _byState.Where(s => s.Value.ExpiresAt <= now).Select(s => s.Key).ToList())
        {
            _byState.Remove(expired);
        }
    }

    private static string NewSecret() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    private static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));
}
