namespace Trellis.Core.Control;

/// <summary>The relays nodes may use, by region (self-hosted region ids are conventionally 900-999).</summary>
public sealed record RelayMap
{
    public IReadOnlyList<RelayRegion> Regions { get; init; } = [];
}

public sealed record RelayRegion
{
    public required int Id { get; init; }

    public required string Code { get; init; }

    public string? Name { get; init; }

    public IReadOnlyList<RelayNode> Nodes { get; init; } = [];
}

public sealed record RelayNode
{
    public required string Name { get; init; }

    /// <summary>Host name (or address) for HTTPS/HTTP, e.g. relay1.example.com.</summary>
    public required string Host { get; init; }

    public int Port { get; init; } = 443;

    public int StunPort { get; init; } = 3478;

    public string? IPv4 { get; init; }

    public string? IPv6 { get; init; }
}
