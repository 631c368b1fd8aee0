namespace Trellis.Core.Control;

/// <summary>
/// What every node learns about one peer: keys, overlay addresses, the prefixes routed to it
/// (its addresses plus approved subnet routes), where to reach it, and whether it is online.
/// Keys are base64 (wg's form), addresses and prefixes in their usual text forms.
/// </summary>
public sealed record PeerInfo
{
    public required long Id { get; init; }

    public required string Name { get; init; }

    public required string NodeKey { get; init; }

    public required string DiscoKey { get; init; }

    public required IReadOnlyList<string> Addresses { get; init; }

    public required IReadOnlyList<string> AllowedIps { get; init; }

    public IReadOnlyList<string> Endpoints { get; init; } = [];

    public int HomeRelay { get; init; }

    public bool Online { get; init; }

    /// <summary>
    /// The node relays over UDP for peers that cannot reach each other directly: it asked to
    /// (`trellis up --peer-relay`) and has a public or port-mapped endpoint. Live, like <see cref="Online"/>.
    /// </summary>
    public bool PeerRelay { get; init; }

    /// <summary>
    /// STUN found the node's IPv4 NAT giving it a new public port per destination (a "hard" NAT), so
    /// hole punching cannot meet it from behind another NAT and a peer whose own mapping is stable
    /// starts port guessing at once instead of after rounds of punching. Live, like <see cref="Online"/>.
    /// </summary>
    public bool MappingVaries { get; init; }

    /// <summary>
    /// Set for a plain WireGuard peer (a device with only a stock WireGuard client): the id of the
    /// gateway node that holds it as a WireGuard peer. Every other node reaches its addresses through
    /// that gateway, as through a route the gateway owns; it has no disco key and no endpoints.
    /// </summary>
    public long? Gateway { get; init; }

    public string? User { get; init; }

    /// <summary>The release and commit the node last reported (<see cref="MapRequest.Version"/>); null when it never did.</summary>
    public string? Version { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>
    /// When the node's key stops being accepted (null: never). A node reads its own to warn its user
    /// ahead of time (<see cref="NodeKeyExpiry.WarnBefore"/>) and to show when a renewal took.
    /// </summary>
    public DateTimeOffset? KeyExpiry { get; init; }

    /// <summary>
    /// The server's own knowledge, never sent: the policy groups ("group:eng") the owner's identity
    /// provider put them in at their last sign-in.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> UserGroups { get; init; } = [];
}
