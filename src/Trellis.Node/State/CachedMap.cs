namespace Trellis.Node.State;

/// <summary>
/// The last map the node received, on disk so a daemon restarted while the control server is down
/// brings its tunnels back. It is only used for the server and node key it was received for.
/// </summary>
public sealed record CachedMap
{
    public const int CurrentVersion = 1;

    public required int Version { get; init; }

    public required string ServerUrl { get; init; }

    /// <summary>The node's public key when the map was received; after a key change the map is stale.</summary>
    public required string NodeKey { get; init; }

    public required DateTimeOffset SavedAt { get; init; }

    public required NetMap Map { get; init; }
}
