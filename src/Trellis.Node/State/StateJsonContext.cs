using System.Text.Json.Serialization;

namespace Trellis.Node.State;

/// <summary>Source-generated JSON for the files of the state directory.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(NodePrefs))]
[JsonSerializable(typeof(CachedMap))]
internal sealed partial class StateJsonContext : JsonSerializerContext;
