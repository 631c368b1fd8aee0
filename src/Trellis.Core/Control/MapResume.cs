namespace Trellis.Core.Control;

/// <summary>
/// A reconnecting node's account of the map it holds (<see cref="MapRequest.Resume"/>): a digest of
/// each peer entry and one of the map's settings (<see cref="MapDigest"/>). It names no point in any
/// server's history, so every replica can answer it, and it grants nothing: the server computes the
/// authenticated node's own view and uses the digests only to leave out what the node already has.
/// </summary>
public sealed record MapResume
{
    /// <summary>Base64 of <see cref="MapDigest.RecordSize"/>-byte records: a peer's id and its entry's digest (little-endian).</summary>
    public required string Peers { get; init; }

    /// <summary><see cref="MapDigest.OfSettings"/> of the overlay prefixes and names settings the node holds.</summary>
    public ulong Settings { get; init; }
}
