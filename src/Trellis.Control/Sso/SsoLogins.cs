using System.Security.Cryptography;
using Microsoft.AspNetCore.WebUtilities;
using Trellis.Core.Keys;

namespace Trellis.Control.Sso;

/// <summary>
/// Sign-ins in progress, in memory: each is bound to one waiting node and its node key, reached by
/// an unguessable link id, and carries the state, nonce and PKCE verifier of its one authorization
/// request. Ids and states are looked up by their SHA-256, so a lookup's timing says nothing about
/// a secret. Bounded in number and in time; a server restart forgets them (the node asks again).
/// </summary>
public sealed class SsoLogins(Uri publicUrl, TimeProvider time, TimeSpan timeout, int capacity = SsoLogins.DefaultCapacity)
{
    public const int DefaultCapacity = 1000;

    /// <summary>Where a sign-in link leads (followed by the link id).</summary>
    public const string StartPath = "/oidc/start/";

    /// <summary>Where the provider sends the browser back.</summary>
    public const string CallbackPath = "/oidc/callback";

    private readonly string _base = publicUrl.AbsoluteUri.TrimEnd('/');

    private readonly Lock _lock = new();
    private readonly Dictionary<string, SsoLogin> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SsoLogin> _byState = new(StringComparer.Ordinal);
    private readonly Dictionary<long, (SsoLogin Login, string Id)> _byNode = [];

    /// <summary>The redirect URI registered at the provider.</summary>
    public string CallbackUrl => _base + CallbackPath;

    /// <summary>The sign-in link of a waiting node (see <see cref="LinkFor"/>); null when too many sign-ins are open.</summary>
    public string? UrlFor(long nodeId, Key nodeKey) => LinkFor(nodeId, nodeKey) is { } id ? _base + StartPath + id : null;

    /// <summary>The link id of the node's sign-in, the same while it waits with the same key; null when too many are open.</summary>
    public string? LinkFor(long nodeId, Key nodeKey)
    {
        lock (_lock)
        {
            Prune();
            if (_byNode.TryGetValue(nodeId, out var open) && open.Login.NodeKey == nodeKey)
            {
                return open.Id;
            }

            if (open.Login is not null)
            {
                Forget(open.Login);
            }

            if (_byId.Count >= capacity)
            {
                return null;
            }

            var id = NewSecret();
            var login = new SsoLogin(Hash(id), nodeId, nodeKey, time.GetUtcNow() + timeout);
            _byId[login.IdHash] = login;
            _byNode[nodeId] = (login, id);
            return id;
        }
    }

    /// <summary>
    /// Starts (or restarts) the authorization request of the link <paramref name="id"/>: fresh state,
    /// nonce and verifier, so an older tab's answer no longer counts. Null for an unknown or expired link.
    /// </summary>
    public SsoRequest? Begin(string id)
    {
        lock (_lock)
        {
            Prune();
            if (!_byId.TryGetValue(Hash(id), out var login))
            {
                return null;
            }

            if (login.State is { } previous)
            {
                _byState.Remove(previous);
            }

            var request = new SsoRequest(NewSecret(), NewSecret(), NewSecret());
            login.State = Hash(request.State);
            login.Request = request;
            _byState[login.State] = login;
            return request;
        }
    }

    /// <summary>
    /// The sign-in an answer's state belongs to, taken out of the state table: a state counts once,
    /// so a replayed answer finds nothing. The link stays until <see cref="Finish"/>, so a person
    /// whose sign-in failed can open it again.
    /// </summary>
    public SsoLogin? Take(string state)
    {
        lock (_lock)
        {
            Prune();
            var hash = Hash(state);
            if (!_byState.Remove(hash, out var login))
            {
                return null;
            }

            login.State = null;
            return login;
        }
    }

    /// <summary>The node is registered (or refused for good): its link is spent.</summary>
    public void Finish(SsoLogin login)
    {
        lock (_lock)
        {
            Forget(login);
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byId.Count;
            }
        }
    }

    private void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var login in _byId.Values.Where(l => l.ExpiresAt <= now).ToList())
        {
            Forget(login);
        }
    }

    private void Forget(SsoLogin login)
    {
        _byId.Remove(login.IdHash);
        if (login.State is { } state)
        {
            _byState.Remove(state);
        }

        if (_byNode.TryGetValue(login.NodeId, out var open) && ReferenceEquals(open.Login, login))
        {
            _byNode.Remove(login.NodeId);
        }
    }

    private static string NewSecret() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    private static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));
}
