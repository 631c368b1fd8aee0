using System.Diagnostics.CodeAnalysis;
using System.Net;
using Trellis.Core.Keys;

namespace Trellis.Control.Store;

/// <summary>Whether a node may take part in the network yet.</summary>
public enum NodeStatus
{
    /// <summary>Registered without an auth key (or needing re-authentication): waits for an admin.</summary>
    Pending,

    Active,
}

/// <summary>
/// A device in the network. Owned by a user or by tags, never both; identified by its machine key
/// (long-lived, authenticates the control channel) and reachable through its node key (WireGuard).
/// </summary>
public sealed class Node
{
    public long Id { get; set; }

    public Key MachineKey { get; set; }

    public Key NodeKey { get; set; }

    public Key DiscoKey { get; set; }

    /// <summary>Unique DNS label derived from the hostname the device reported.</summary>
    public required string Name { get; set; }

    public long? UserId { get; set; }

    public User? User { get; set; }

    public List<string> Tags { get; set; } = [];

    /// <summary>Null while the node waits for its first approval: addresses are allocated when it is let in.</summary>
    public IPAddress? IPv4 { get; set; }

    /// <summary>Null exactly when <see cref="IPv4"/> is.</summary>
    public IPAddress? IPv6 { get; set; }

    /// <summary>"ip:port" candidates the node reported for direct paths.</summary>
    public List<string> Endpoints { get; set; } = [];

    /// <summary>Relay region the node is attached to; 0 when none.</summary>
    public int HomeRelay { get; set; }

    /// <summary>
    /// The node's connection last said it relays for its peers. Stored, not only held in the live
    /// mesh, so that the other replicas learn it through the change feed; cleared when it goes offline.
    /// </summary>
    public bool PeerRelay { get; set; }

    /// <summary>The node's connection last said its NAT maps per destination; stored and cleared like <see cref="PeerRelay"/>.</summary>
    public bool MappingVaries { get; set; }

    /// <summary>
    /// The replica (its origin) the node's session was last opened on; null on SQLite. When a
    /// replica dies, the nodes still attributed to it are marked offline by another.
    /// </summary>
    public string? Replica { get; set; }

    /// <summary>The longest <see cref="Replica"/>: an origin is 32 hex digits.</summary>
    public const int MaxReplicaLength = 32;

    /// <summary>Canonical CIDR prefixes the node offers to route.</summary>
    public List<string> AdvertisedRoutes { get; set; } = [];

    /// <summary>
    /// Canonical CIDR prefixes an admin or a rule approved. Kept when the node stops advertising
    /// them, so a router that restarts does not need approving again; peers see the intersection.
    /// </summary>
    public List<string> ApprovedRoutes { get; set; } = [];

    public bool Online { get; set; }

    public DateTimeOffset? LastSeen { get; set; }

    /// <summary>The release and commit the node reported when it last connected; null for a node older than version reporting.</summary>
    public string? Version { get; set; }

    /// <summary>When the node key stops being accepted; null for never.</summary>
    public DateTimeOffset? KeyExpiry { get; set; }

    public bool Ephemeral { get; set; }

    public NodeStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public long? AuthKeyId { get; set; }

    /// <summary>
    /// An admin let this node serve plain WireGuard peers: it holds them as WireGuard peers and
    /// forwards between them and the mesh. Needs a UDP endpoint they can reach unasked.
    /// </summary>
    public bool WireGuardGateway { get; set; }

    /// <summary>"host:port" an admin gave for plain peers to dial; null to use the first public endpoint the node reports.</summary>
    public string? GatewayEndpoint { get; set; }

    /// <summary>
    /// Set on a plain WireGuard peer (a device with a stock WireGuard client and no Trellis): the
    /// gateway node it enters the mesh through. Its node key is its WireGuard public key; its machine
    /// and disco keys are random keys nobody holds, so it can never open a control connection.
    /// </summary>
    public long? GatewayId { get; set; }

    public bool IsPlainPeer => GatewayId is not null;

    /// <summary>Whether the node has overlay addresses (every node an admin or an auth key ever let in).</summary>
    [MemberNotNullWhen(true, nameof(IPv4), nameof(IPv6))]
    public bool HasAddresses => IPv4 is not null && IPv6 is not null;

    public bool IsExpired(DateTimeOffset now) => KeyExpiry is { } expiry && expiry <= now;

    /// <summary>The routes peers should send through this node: advertised and approved.</summary>
    public IReadOnlyList<string> ServedRoutes() =>
        AdvertisedRoutes.Where(r => ApprovedRoutes.Contains(r, StringComparer.Ordinal)).ToList();
}
