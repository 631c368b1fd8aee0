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

    /// <summary>HTTPS (the default); false only for a relay reached over plain HTTP (a lab, or behind a private network).</summary>
    public bool Tls { get; init; } = true;

    public int StunPort { get; init; } = 3478;

    public string? IPv4 { get; init; }

    public string? IPv6 { get; init; }

    /// <summary>Where a relay client connects: the relay endpoint of this node.</summary>
    public Uri RelayUri() => new UriBuilder(Tls ? "https" : "http", Host, Port, RelayPath).Uri;

    /// <summary>The HTTP path a relay serves on, embedded or standalone.</summary>
    public const string RelayPath = "/relay";
}
