using System.Text.Json.Serialization;

namespace Trellis.Control.Admin;

// Request bodies of the admin API. Unknown properties are refused, so a misspelt "reuseable" is
// an error rather than a silently single-use key. (Responses stay open: an older CLI must read a newer server.)

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateUserRequest
{
    public required string Name { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateAuthKeyRequest
{
    public string? User { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }

    public bool Reusable { get; init; }

    public bool Ephemeral { get; init; }

    /// <summary>A lifetime ("24h", "1h30m", "7d") or a moment (ISO 8601); absent means the default lifetime.</summary>
    public string? Expiration { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateApiKeyRequest
{
    /// <summary>As for auth keys.</summary>
    public string? Expiration { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record RenameNodeRequest
{
    public required string Name { get; init; }
}

/// <summary>Approving a pending node: the owner to give it, or none to keep the one it had.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ApproveNodeRequest
{
    public string? User { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record RoutePrefixesRequest
{
    public required IReadOnlyList<string> Prefixes { get; init; }
}

/// <summary>The tags that will own the node from now on (replacing its user or its former tags).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SetNodeTagsRequest
{
    public required IReadOnlyList<string> Tags { get; init; }
}

/// <summary>Registering a plain WireGuard peer; without a public key the server generates the pair and returns the private key once.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record AddWireGuardPeerRequest
{
    public required string Name { get; init; }

    public required string User { get; init; }

    public string? PublicKey { get; init; }

    /// <summary>The gateway's id or name; absent for the only gateway there is.</summary>
    public string? Gateway { get; init; }
}

/// <summary>Letting a node serve plain WireGuard peers, or stopping it.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SetGatewayRequest
{
    public required bool Enabled { get; init; }

    /// <summary>host:port plain peers dial; absent: the first public endpoint the node reports.</summary>
    public string? Endpoint { get; init; }
}
