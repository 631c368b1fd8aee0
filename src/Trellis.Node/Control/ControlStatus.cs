using Trellis.Core.Control;

namespace Trellis.Node.Control;

public enum ControlState
{
    /// <summary>Not started yet.</summary>
    Idle,
    Connecting,
    Registering,

    /// <summary>Registered without an auth key: waits for an admin (see <see cref="ControlStatus.ApproveHint"/>), asking again now and then.</summary>
    Pending,

    /// <summary>The map stream is open and the full map arrived.</summary>
    Running,

    /// <summary>The server is unreachable or the connection broke; the next attempt comes after a backoff.</summary>
    Reconnecting,

    /// <summary>The server refused the registration (bad or used auth key...); final.</summary>
    Rejected,

    /// <summary>The server ended the node's session (deleted, expired, logged out); final.</summary>
    Ended,

    Stopped,
}

public enum ControlErrorKind
{
    None,

    /// <summary>No answer: connection refused, DNS, timeout, TLS.</summary>
    Unreachable,

    /// <summary>Something answers at the URL, but it is not a Trellis control server.</summary>
    NotTrellisServer,

    Rejected,
    SessionEnded,

    /// <summary>The server said something this client did not expect.</summary>
    Protocol,

    /// <summary>The server presents a key other than the one this node pinned: an impersonator, or a re-keyed server to re-pin by hand.</summary>
    ServerKeyChanged,
}

/// <summary>A snapshot of the control client, immutable; a new one each time anything changes.</summary>
public sealed record ControlStatus
{
    public ControlState State { get; init; }

    public string? Error { get; init; }

    public ControlErrorKind ErrorKind { get; init; }

    /// <summary>The server's instruction for an admin, while pending.</summary>
    public string? ApproveHint { get; init; }

    /// <summary>While pending on a server with single sign-on: where a person signs in to register this node.</summary>
    public string? AuthUrl { get; init; }

    /// <summary>
    /// After a renewal was asked for (<see cref="ControlClient.RequestRenewalAsync"/>) while running: where
    /// the node's owner signs in to renew its key. Cleared when the renewed expiry arrives.
    /// </summary>
    public string? RenewUrl { get; init; }

    /// <summary>The server's answer to a renewal request: what the owner does (with or without <see cref="RenewUrl"/>).</summary>
    public string? RenewHint { get; init; }

    /// <summary>This node as the server last described it.</summary>
    public PeerInfo? Self { get; init; }

    /// <summary>How many map streams opened with a map (1 after the first connection, 2 after a reconnect...), resumed ones included.</summary>
    public int MapStreams { get; init; }

    /// <summary>How many of <see cref="MapStreams"/> resumed the map held (one delta) instead of receiving a full map.</summary>
    public int MapResumes { get; init; }

    /// <summary>The release of the server (replica) the map stream is open to, as it said; null from an older server or one that said something unprintable.</summary>
    public string? ServerVersion { get; init; }

    /// <summary>The URL of the replica the client is connected to, or dialing; null before the first attempt.</summary>
    public Uri? Server { get; init; }

    /// <summary>Consecutive failed attempts since the last map stream.</summary>
    public int Failures { get; init; }

    public bool IsFinal => State is ControlState.Rejected or ControlState.Ended or ControlState.Stopped;
}
