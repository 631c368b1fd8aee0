using System.Text.Json.Serialization;

namespace Trellis.Net.Netcheck;

/// <summary>Source-generated JSON for netcheck reports (camelCase, indented for people and scripts alike).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(NetcheckReport))]
public sealed partial class NetcheckJsonContext : JsonSerializerContext;
