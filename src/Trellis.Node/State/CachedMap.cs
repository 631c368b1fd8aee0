using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Node.Control;

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

    /// <summary>The key the server that sent the map proved (base64); absent in caches written before resuming from the cache.</summary>
    public string? ServerKey { get; init; }

    /// <summary>The protocol level that server announced (<see cref="FullMap.ServerProtocol"/>); 0 in older caches.</summary>
    public int ServerProtocol { get; init; }

    /// <summary>The map as a restarted daemon resumes its session from it; null when the cache does not say the server resumes (an older cache, an older server).</summary>
    public ResumableMap? Resumable() =>
        ServerProtocol >= ControlProtocol.Resume && Key.TryParseBase64(ServerKey, out var key) && !key.IsZero
            ? new ResumableMap(Map, key, ServerProtocol)
            : null;
}
