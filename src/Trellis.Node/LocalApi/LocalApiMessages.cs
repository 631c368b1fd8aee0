namespace Trellis.Node.LocalApi;

/// <summary>POST /v1/up: connect to <see cref="Server"/> (or the saved server), registering if needed.</summary>
public sealed record UpRequest
{
    /// <summary>The control server's URL; null: the one saved by the last `up`.</summary>
    public string? Server { get; init; }

    /// <summary>An auth key; without one, a new node waits for an admin's approval. Not used while already connected, unless <see cref="ForceReauth"/>.</summary>
    public string? AuthKey { get; init; }

    /// <summary>Register again with <see cref="AuthKey"/> even when already connected (e.g. to move the node to the key's user or tags).</summary>
    public bool ForceReauth { get; init; }

    /// <summary>The name to register under; null: the saved one, else the machine's host name.</summary>
    public string? Hostname { get; init; }

    /// <summary>The server's public key (base64) given out of band, pinned instead of trusting the first answer; null: the pinned one, else trust on first use.</summary>
    public string? ServerKey { get; init; }

    /// <summary>Settings given with this `up`; each one left null keeps its saved value, or with <see cref="Reset"/> its default.</summary>
    public NodeSettings Settings { get; init; } = new();

    /// <summary>Settings (and the hostname) not given go back to their defaults instead of keeping their saved values.</summary>
    public bool Reset { get; init; }
}

/// <summary>
/// The node's own settings as `up` and `set` change them; null leaves a setting as it is. Defaults:
/// no routes advertised, routes of others not accepted, the mesh's DNS accepted, masquerade on, port
/// guessing on, no peer relay.
/// </summary>
public sealed record NodeSettings
{
    public IReadOnlyList<string>? AdvertiseRoutes { get; init; }

    public bool? AcceptRoutes { get; init; }

    /// <summary>Point the host's resolver at the mesh's (default on).</summary>
    public bool? AcceptDns { get; init; }

    /// <summary>Masquerade mesh traffic into advertised subnets.</summary>
    public bool? Masquerade { get; init; }

    /// <summary>Port guessing between an easy and a hard NAT.</summary>
    public bool? PortGuessing { get; init; }

    /// <summary>Relay over UDP for peers that cannot reach each other directly.</summary>
    public bool? PeerRelay { get; init; }

    /// <summary>Offer this node as an exit node (advertises 0.0.0.0/0 and ::/0 for an admin to approve).</summary>
    public bool? AdvertiseExitNode { get; init; }

    /// <summary>Send all internet traffic through this peer (name, full name or overlay address); "" stops using one.</summary>
    public string? ExitNode { get; init; }

    /// <summary>With an exit node, keep the directly connected LAN local.</summary>
    public bool? ExitNodeAllowLanAccess { get; init; }

    /// <summary>Serve Prometheus metrics at this ADDRESS:PORT (an IP address); "" stops serving them.</summary>
    public string? MetricsListen { get; init; }
}

/// <summary>POST /v1/set: change settings without connecting or disconnecting.</summary>
public sealed record SetRequest
{
    public NodeSettings Settings { get; init; } = new();
}

/// <summary>GET /v1/prefs: what the node was asked for, as saved (no secrets: the server key is public).</summary>
public sealed record PrefsResponse
{
    public string? Server { get; init; }

    public string? Hostname { get; init; }

    public required IReadOnlyList<string> AdvertiseRoutes { get; init; }

    public bool AcceptRoutes { get; init; }

    public bool AcceptDns { get; init; }

    public bool Masquerade { get; init; }

    public bool PortGuessing { get; init; }

    public bool PeerRelay { get; init; }

    public bool AdvertiseExitNode { get; init; }

    /// <summary>The exit node as given, or null for none.</summary>
    public string? ExitNode { get; init; }

    public bool ExitNodeAllowLanAccess { get; init; }

    /// <summary>Where the node serves Prometheus metrics (ADDRESS:PORT), or null for nowhere.</summary>
    public string? MetricsListen { get; init; }

    /// <summary>Whether the node is wanted up (after `up`) or down (after `down` or `logout`).</summary>
    public bool WantUp { get; init; }
}

/// <summary>What `up` achieved: "running" (registered, map applied) or "pending" (an admin must approve).</summary>
public sealed record UpResponse
{
    public required string State { get; init; }

    /// <summary>True when the node was already connected and the auth key given was not used (see <see cref="UpRequest.ForceReauth"/>).</summary>
    public bool AuthKeyIgnored { get; init; }

    /// <summary>While pending: the command an admin runs on the server.</summary>
    public string? ApproveHint { get; init; }

    public required StatusResponse Status { get; init; }
}

/// <summary>GET /v1/status: the node, its control connection and every peer with the data plane's view of it.</summary>
public sealed record StatusResponse
{
    /// <summary>"stopped", "starting", "pending", "running", "reconnecting" or "needs-login" (see <see cref="NodeStates"/>).</summary>
    public required string State { get; init; }

    /// <summary>The server URL (or replicas' URLs, comma-separated) the node was brought up with.</summary>
    public string? Server { get; init; }

    /// <summary>The replica the node is connected to or dialing now; null before its first attempt.</summary>
    public string? ConnectedTo { get; init; }

    /// <summary>The release of the server the node's map stream last opened to; null before that or from an older server.</summary>
    public string? ServerVersion { get; init; }

    /// <summary>This daemon's own release and commit.</summary>
    public string? Version { get; init; }

    /// <summary>The server's running replicas' URLs as the node's map names them: where it goes when its replica does.</summary>
    public IReadOnlyList<string> Replicas { get; init; } = [];

    /// <summary>Map streams this daemon opened with a full map (a reconnect that could not resume gets one).</summary>
    public int FullMaps { get; init; }

    /// <summary>Map streams this daemon resumed from the map it held, with one delta instead of a full map.</summary>
    public int MapResumes { get; init; }

    /// <summary>What went wrong last (control or engine), if anything still matters.</summary>
    public string? Error { get; init; }

    public string? ApproveHint { get; init; }

    /// <summary>While pending on a server with single sign-on: where a person signs in to register this node.</summary>
    public string? AuthUrl { get; init; }

    /// <summary>After `trellis up --force-reauth` without an auth key: where the node's owner signs in to renew its key (the node stays connected).</summary>
    public string? RenewUrl { get; init; }

    /// <summary>The server's answer to that renewal request: how this node's key is renewed.</summary>
    public string? RenewHint { get; init; }

    public StatusSelf? Self { get; init; }

    public IReadOnlyList<StatusPeer> Peers { get; init; } = [];

    /// <summary>Packets from peers this node's access policy refused since its data plane started.</summary>
    public long DroppedByPolicy { get; init; }

    /// <summary>The daemon's managed memory when it answered; null from a daemon that does not say.</summary>
    public StatusMemory? Memory { get; init; }
}

public sealed record StatusSelf
{
    public required long Id { get; init; }

    public required string Hostname { get; init; }

    public required IReadOnlyList<string> Addresses { get; init; }

    /// <summary>Whether the node is connected to the control server right now.</summary>
    public required bool Online { get; init; }

    /// <summary>The public node key (base64).</summary>
    public required string NodeKey { get; init; }

    public string? User { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>When the server stops accepting this node's key (null: never); renew it before with `trellis up --force-reauth`.</summary>
    public DateTimeOffset? KeyExpiry { get; init; }

    /// <summary>The code of the relay region peers reach this node through (the fastest reachable one), if any.</summary>
    public string? HomeRelay { get; init; }

    /// <summary>Other relay regions connected now, to reach peers homed there.</summary>
    public IReadOnlyList<string> RelayRegions { get; init; } = [];

    /// <summary>The exit node internet traffic goes through, if one is set.</summary>
    public StatusExitNode? ExitNode { get; init; }
}

/// <summary>The exit node in use. While it is unusable (offline, gone, not approved) internet traffic is dropped, never sent around it.</summary>
public sealed record StatusExitNode
{
    /// <summary>As given with --exit-node.</summary>
    public required string Given { get; init; }

    /// <summary>The peer's name, when the map holds it as an exit node.</summary>
    public string? Hostname { get; init; }

    /// <summary>Whether that peer is connected to the control server (as the map says).</summary>
    public bool Online { get; init; }

    public bool AllowLanAccess { get; init; }

    /// <summary>Why it cannot be used now, if it cannot.</summary>
    public string? Problem { get; init; }
}

public sealed record StatusPeer
{
    public required long Id { get; init; }

    public required string Hostname { get; init; }

    public required IReadOnlyList<string> Addresses { get; init; }

    public required IReadOnlyList<string> AllowedIps { get; init; }

    /// <summary>Whether the peer is connected to the control server (as the map says).</summary>
    public required bool Online { get; init; }

    /// <summary>A <see cref="Core.Control.PathKind"/>: "direct", "peer-relay", "relay" or "none", from the data plane.</summary>
    public required string Path { get; init; }

    /// <summary>The direct path's ip:port, when direct; the peer relay's, through one.</summary>
    public string? Endpoint { get; init; }

    /// <summary>The relay region in use, when relayed.</summary>
    public string? Relay { get; init; }

    /// <summary>The name of the peer relaying for this peer, on a peer-relay path.</summary>
    public string? PeerRelay { get; init; }

    public DateTimeOffset? LastHandshake { get; init; }

    public long RxBytes { get; init; }

    public long TxBytes { get; init; }

    /// <summary>Packets from this peer the access policy refused.</summary>
    public long DroppedByPolicy { get; init; }

    public required string NodeKey { get; init; }

    /// <summary>For a plain WireGuard peer served by another node: that gateway's name (its traffic goes through it).</summary>
    public string? Gateway { get; init; }

    /// <summary>Whether that gateway is connected to the control server (as the map says); without it the plain peer is unreachable.</summary>
    public bool? GatewayOnline { get; init; }

    /// <summary>The release and commit the peer last reported to the server; null when it never did.</summary>
    public string? Version { get; init; }
}

/// <summary>The body of every error answer.</summary>
public sealed record ErrorResponse
{
    /// <summary>One of <see cref="LocalApiErrors"/>.</summary>
    public required string Code { get; init; }

    public required string Error { get; init; }
}

/// <summary>The node's states as the local API names them.</summary>
public static class NodeStates
{
    public const string Stopped = "stopped";
    public const string Starting = "starting";
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Reconnecting = "reconnecting";
    public const string NeedsLogin = "needs-login";
}

/// <summary>POST /v1/ping: one discovery ping to <see cref="Peer"/> (a hostname, an overlay address or a node key).</summary>
public sealed record PingRequest
{
    public required string Peer { get; init; }

    /// <summary>How long to wait for the answer, in milliseconds (default 2000).</summary>
    public int TimeoutMs { get; init; } = 2000;
}

/// <summary>Which path answered a ping first, and how fast.</summary>
public sealed record PingResponse
{
    public required string Hostname { get; init; }

    public required string Address { get; init; }

    /// <summary>"direct", "peer-relay" (through a peer at <see cref="Endpoint"/>) or "relay".</summary>
    public required string Path { get; init; }

    public string? Endpoint { get; init; }

    public string? Relay { get; init; }

    public double LatencyMs { get; init; }
}

/// <summary>Error codes of the local API.</summary>
public static class LocalApiErrors
{
    /// <summary>The request itself is wrong (bad URL, bad route, missing server).</summary>
    public const string Invalid = "invalid";

    /// <summary>The caller is neither root nor the daemon's user.</summary>
    public const string Forbidden = "forbidden";

    /// <summary>Nothing answers at the server URL.</summary>
    public const string Unreachable = "unreachable";

    /// <summary>Something answers, but not a Trellis control server.</summary>
    public const string NotTrellisServer = "not-trellis-server";

    /// <summary>The server presents a key other than the pinned one.</summary>
    public const string ServerKeyChanged = "server-key-changed";

    /// <summary>The server refused the registration (bad, expired or used auth key...).</summary>
    public const string Rejected = "rejected";

    /// <summary>The server gave no outcome in time.</summary>
    public const string Timeout = "timeout";

    /// <summary>Anything else the daemon could not do (the data plane failed...).</summary>
    public const string Failed = "failed";

    /// <summary>Client side: no daemon listens at the socket.</summary>
    public const string Unavailable = "unavailable";
}
