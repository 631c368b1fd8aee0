using System.Text.Json.Serialization;

namespace Trellis.Core.Control;

/// <summary>
/// Messages on a node's control channel (inside the Noise channel), one JSON object each,
/// discriminated by "type". Nodes send the requests; the server answers and streams maps.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(RegisterRequest), "register")]
[JsonDerivedType(typeof(RegisterResponse), "registered")]
[JsonDerivedType(typeof(MapRequest), "map")]
[JsonDerivedType(typeof(FullMap), "full-map")]
[JsonDerivedType(typeof(MapDelta), "delta")]
[JsonDerivedType(typeof(EndpointUpdate), "endpoints")]
[JsonDerivedType(typeof(RouteAdvertisement), "routes")]
[JsonDerivedType(typeof(LogoutRequest), "logout")]
[JsonDerivedType(typeof(PlainPeerReport), "plain-peers")]
[JsonDerivedType(typeof(KeepaliveMessage), "keepalive")]
[JsonDerivedType(typeof(ErrorMessage), "error")]
public abstract record ControlMessage;

/// <summary>Join (or rejoin, or rotate the node key) with an auth key, or without one to wait for an admin.</summary>
public sealed record RegisterRequest : ControlMessage
{
    public required string NodeKey { get; init; }

    public required string DiscoKey { get; init; }

    public required string Hostname { get; init; }

    public string? AuthKey { get; init; }

    public IReadOnlyList<string> AdvertisedRoutes { get; init; } = [];

    /// <summary>
    /// Sent on a running stream by an active node whose user wants to renew its key before it expires
    /// (`trellis up --force-reauth` without an auth key): the server answers with a sign-in link in
    /// <see cref="RegisterResponse.AuthUrl"/> while the node stays active. Null (not false) otherwise,
    /// so older servers never see the field.
    /// </summary>
    public bool? Renew { get; init; }
}

public sealed record RegisterResponse : ControlMessage
{
    /// <summary>One of <see cref="RegisterStatus"/>.</summary>
    public required string Status { get; init; }

    public string? Error { get; init; }

    /// <summary>Why a registration was rejected, when the node can act on it (<see cref="ControlErrorCodes.NodeKeyExpired"/>).</summary>
    public string? Code { get; init; }

    public string? ApproveHint { get; init; }

    /// <summary>
    /// While pending on a server with single sign-on: where a person signs in to register this node;
    /// answering <see cref="RegisterRequest.Renew"/>: where its owner signs in to renew its key. A
    /// secret link, valid for minutes.
    /// </summary>
    public string? AuthUrl { get; init; }

    public PeerInfo? Self { get; init; }
}

/// <summary>Start the map stream: a full map now, deltas after. Carries the node's current endpoints.</summary>
public sealed record MapRequest : ControlMessage
{
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    public int HomeRelay { get; init; }

    /// <summary>This node relays for its peers now (see <see cref="PeerInfo.PeerRelay"/>).</summary>
    public bool PeerRelay { get; init; }

    /// <summary>This node's NAT gives it a new public port per destination (see <see cref="PeerInfo.MappingVaries"/>).</summary>
    public bool MappingVaries { get; init; }

    /// <summary>The newest <see cref="ControlProtocol"/> level this node applies; absent (0) from older nodes.</summary>
    public int Protocol { get; init; }

    /// <summary>The node's release and commit (<see cref="Build.BuildInfo.Short"/>; at most <see cref="Build.NodeVersion.MaxLength"/> characters); absent from older nodes.</summary>
    public string? Version { get; init; }

    /// <summary>
    /// What the node's map holds, from a node reconnecting with a map of an earlier stream: the server
    /// may answer with one delta from that map instead of a full map. Null on a first connect; older
    /// servers ignore it.
    /// </summary>
    public MapResume? Resume { get; init; }
}

public sealed record FullMap : ControlMessage
{
    public required PeerInfo Self { get; init; }

    [JsonConverter(typeof(SharedPeerListConverter))]
    public required IReadOnlyList<PeerInfo> Peers { get; init; }

    public RelayMap RelayMap { get; init; } = new();

    /// <summary>Overlay prefixes of the deployment (IPv4 and IPv6), for routes on the node.</summary>
    public IReadOnlyList<string> OverlayPrefixes { get; init; } = [];

    /// <summary>What this node lets in from peers; null (a server without policies) allows all.</summary>
    public PacketFilter? PacketFilter { get; init; }

    /// <summary>The mesh's names and resolvers; null from a server that predates names.</summary>
    public DnsConfig? Dns { get; init; }

    /// <summary>The newest <see cref="ControlProtocol"/> level the server takes; absent (0) from older servers.</summary>
    public int ServerProtocol { get; init; }

    /// <summary>The server's release and commit (<see cref="Build.BuildInfo.Short"/>), for `trellis status`; absent from older servers.</summary>
    public string? ServerVersion { get; init; }

    /// <summary>
    /// The public URLs of the server's running replicas (<see cref="ReplicaUrls"/>); null from a single
    /// server, a replica that knows none yet, or an older server. Older nodes ignore it.
    /// </summary>
    public IReadOnlyList<string>? Replicas { get; init; }
}

/// <summary>
/// What changed since the last map or delta, applied in this order: <see cref="PeersChanged"/> (added or
/// replaced), then <see cref="PeersKept"/> if set, then <see cref="PeersRemoved"/>, then <see cref="Patches"/>.
/// </summary>
public sealed record MapDelta : ControlMessage
{
    [JsonConverter(typeof(SharedPeerListConverter))]
    public IReadOnlyList<PeerInfo> PeersChanged { get; init; } = [];

    /// <summary>
    /// Null: not used. Set: after <see cref="PeersChanged"/> is applied, the node drops every peer whose
    /// id is neither here nor in <see cref="PeersChanged"/>; ids of peers it does not have add nothing.
    /// Sent instead of a long <see cref="PeersRemoved"/> when a first policy narrows a node's view to a
    /// few of many peers, and only to a node that announced <see cref="ControlProtocol.PeersKept"/>.
    /// </summary>
    public IReadOnlyList<long>? PeersKept { get; init; }

    public IReadOnlyList<long> PeersRemoved { get; init; } = [];

    public IReadOnlyList<PeerPatch> Patches { get; init; } = [];

    /// <summary>Set when the node's own entry changed (addresses, approved routes, name).</summary>
    public PeerInfo? Self { get; init; }

    /// <summary>Set when this node's inbound filter changed (a policy set, changed or removed); null leaves it.</summary>
    public PacketFilter? PacketFilter { get; init; }

    /// <summary>Set when the running replicas' URLs changed (one joined or was swept): the whole new list; null leaves it.</summary>
    public IReadOnlyList<string>? Replicas { get; init; }

    /// <summary>
    /// Set in the delta that answers <see cref="MapRequest.Resume"/> (each replica's embedded relay has
    /// its own URL); null leaves it. Sent only to nodes that announced <see cref="ControlProtocol.Resume"/>.
    /// </summary>
    public RelayMap? RelayMap { get; init; }

    /// <summary>Set in the delta that answers <see cref="MapRequest.Resume"/>, as <see cref="FullMap.ServerVersion"/>: the replica may run another release than the one the map came from.</summary>
    public string? ServerVersion { get; init; }
}

public sealed record EndpointUpdate : ControlMessage
{
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    public int HomeRelay { get; init; }

    /// <summary>This node relays for its peers now (see <see cref="PeerInfo.PeerRelay"/>).</summary>
    public bool PeerRelay { get; init; }

    /// <summary>This node's NAT gives it a new public port per destination (see <see cref="PeerInfo.MappingVaries"/>).</summary>
    public bool MappingVaries { get; init; }
}

public sealed record RouteAdvertisement : ControlMessage
{
    public IReadOnlyList<string> Routes { get; init; } = [];
}

public sealed record LogoutRequest : ControlMessage;

public sealed record KeepaliveMessage : ControlMessage;

public sealed record ErrorMessage : ControlMessage
{
    public required string Code { get; init; }

    public required string Message { get; init; }
}
