using Trellis.Core.Keys;

namespace Trellis.Control.Sso;

/// <summary>One node's sign-in in progress.</summary>
public sealed class SsoLogin(string idHash, long nodeId, Key nodeKey, DateTimeOffset expiresAt)
{
    public string IdHash { get; } = idHash;

    public long NodeId { get; } = nodeId;

    /// <summary>The key the node waited with when the link was made; the sign-in lets in only that key.</summary>
    public Key NodeKey { get; } = nodeKey;

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    /// <summary>The hash of the current request's state, while an answer is awaited.</summary>
    internal string? State { get; set; }

    /// <summary>The current authorization request (its nonce and PKCE verifier are checked against the answer).</summary>
    public SsoRequest? Request { get; internal set; }
}
