using System.Text.Json.Serialization;
using Trellis.Core.Control;

namespace Trellis.Node;

/// <summary>
/// The node's whole view of its mesh at one moment: itself, every peer by id, the relays and the
/// overlay prefixes. Immutable: the control client builds a new one from the full map and each delta,
/// and the engine reconciles the device and the OS with whatever it is handed.
/// </summary>
public sealed record NetMap
{
    public required PeerInfo Self { get; init; }

    public required IReadOnlyDictionary<long, PeerInfo> Peers { get; init; }

    public RelayMap RelayMap { get; init; } = new();

    public IReadOnlyList<string> OverlayPrefixes { get; init; } = [];

    /// <summary>What this node lets in from peers; <see cref="PacketFilter.AllowAll"/> when the server has no policy.</summary>
    public PacketFilter PacketFilter { get; init; } = PacketFilter.AllowAll;

    /// <summary>The mesh's names and resolvers as the server sent them (checked by the resolver); null: no names.</summary>
    public DnsConfig? Dns { get; init; }

    /// <summary>The server's running replicas' URLs as the map last named them (checked, at most <see cref="ReplicaUrls.MaxCount"/>); empty from a single server.</summary>
    public IReadOnlyList<Uri> Replicas { get; init; } = [];

    /// <summary>Names this map among those built in this process (<see cref="PeerChanges.Base"/>); 0 for one read from the cache.</summary>
    [JsonIgnore]
    public long Generation { get; init; }

    /// <summary>
    /// The peers this map changed from the map it was built from (a delta's), so what already holds
    /// that map changes only these; null for a full map or one read from the cache.
    /// </summary>
    [JsonIgnore]
    public PeerChanges? Changes { get; init; }
}
