namespace Trellis.Core.Control;

/// <summary>A small change to one peer: only the fields that are set changed.</summary>
public sealed record PeerPatch
{
    public required long Id { get; init; }

    public IReadOnlyList<string>? Endpoints { get; init; }

    public int? HomeRelay { get; init; }

    public bool? Online { get; init; }
}
