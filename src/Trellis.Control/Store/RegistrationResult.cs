namespace Trellis.Control.Store;

/// <summary>The outcome of <see cref="ControlStore.RegisterNodeAsync"/>; only the first two changed anything.</summary>
public abstract record RegistrationResult
{
    private RegistrationResult()
    {
    }

    /// <summary>The node is active (new, re-authenticated, or its node key rotated).</summary>
    /// <param name="AuthKeyPrefix">The public prefix of the auth key it used (never the secret); null when its machine key alone let it back in.</param>
    public sealed record Registered(Node Node, string? AuthKeyPrefix) : RegistrationResult;

    /// <summary>No auth key: the node is stored and waits for an admin to approve it.</summary>
    public sealed record Pending(Node Node) : RegistrationResult;

    /// <summary>Malformed, unknown, or the secret does not match.</summary>
    public sealed record InvalidKey(string Reason) : RegistrationResult;

    /// <summary>Past its expiry, or revoked by an admin.</summary>
    public sealed record ExpiredKey(string Reason) : RegistrationResult;

    /// <summary>A single-use key that already registered a node.</summary>
    public sealed record KeyAlreadyUsed(string Reason) : RegistrationResult;

    /// <summary>An active node presented its expired node key: it comes back only with a new one.</summary>
    public sealed record NodeKeyExpired(string Reason) : RegistrationResult;

    /// <summary>The request itself is unacceptable (zero keys, bad routes, node key taken, no addresses left).</summary>
    public sealed record Rejected(string Reason) : RegistrationResult;

    public bool Succeeded => this is Registered or Pending;
}
