using System.Text.Json.Serialization;

namespace Trellis.Control.Server;

public sealed record ServerKeyResponse(string PublicKey);

public sealed record HealthResponse(string Status, int Nodes, int Connected);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ServerKeyResponse))]
[JsonSerializable(typeof(HealthResponse))]
internal sealed partial class ServerJsonContext : JsonSerializerContext;
