using System.Text.Json.Serialization;

namespace Trellis.Relay.Protocol;

/// <summary>What a client says about itself, sealed to the server in the ClientInfo frame.</summary>
public sealed record RelayClientInfo
{
    public int Version { get; init; } = RelayProtocol.Version;

    /// <summary>The region's shared mesh secret; only relays of the region send it.</summary>
    public string? MeshKey { get; init; }

    /// <summary>The client answers the server's pings.</summary>
    public bool CanAckPings { get; init; }
}

/// <summary>The server's answer, sealed to the client in the ServerInfo frame.</summary>
public sealed record RelayServerInfo
{
    public int Version { get; init; } = RelayProtocol.Version;

    /// <summary>Bytes per second this client may send (0: unlimited).</summary>
    public long RateLimitBytesPerSecond { get; init; }

    public long RateLimitBurstBytes { get; init; }

    /// <summary>Set when the server refuses the client; the connection closes after this frame.</summary>
    public string? Error { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RelayClientInfo))]
[JsonSerializable(typeof(RelayServerInfo))]
internal sealed partial class RelayJsonContext : JsonSerializerContext;
