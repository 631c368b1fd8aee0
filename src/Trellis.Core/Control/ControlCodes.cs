namespace Trellis.Core.Control;

/// <summary>The values of <see cref="RegisterResponse.Status"/>.</summary>
public static class RegisterStatus
{
    public const string Active = "active";

    /// <summary>Stored; an admin must approve it (see <see cref="RegisterResponse.ApproveHint"/>).</summary>
    public const string Pending = "pending";

    public const string Rejected = "rejected";
}

/// <summary>The values of <see cref="ErrorMessage.Code"/> and <see cref="RegisterResponse.Code"/>.</summary>
public static class ControlErrorCodes
{
    public const string NotRegistered = "not-registered";

    public const string Pending = "pending";

    public const string NotActive = "not-active";

    public const string Invalid = "invalid";

    /// <summary>The node's key expired: it must generate a new node key and register with it (auth key or approval).</summary>
    public const string NodeKeyExpired = "expired";

    /// <summary>The server ended the node's session for good (deleted, replaced, no longer approved).</summary>
    public const string StreamEnded = "stream-ended";

    public const string AlreadyStreaming = "already-streaming";

    public const string Unexpected = "unexpected";

    /// <summary>The server cannot serve the request now (its database failed): try again, perhaps at another replica.</summary>
    public const string Unavailable = "unavailable";
}
