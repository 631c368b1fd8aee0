using System.Text.Json.Serialization;

namespace Trellis.Core.Control;

/// <summary>Source-generated JSON for the control protocol: no reflection, shared by node and server.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ControlMessage))]
[JsonSerializable(typeof(RelayMap))]
[JsonSerializable(typeof(IReadOnlyList<PeerInfo>))] // read and written by SharedPeerListConverter
public sealed partial class ControlJsonContext : JsonSerializerContext;
