using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Trellis.Node.LocalApi;

/// <summary>
/// Source-generated JSON of the local API. Nulls are written: `trellis status --json` promises every
/// field (a peer without a direct path has "endpoint": null), so scripts need not test for absence.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(UpRequest))]
[JsonSerializable(typeof(UpResponse))]
[JsonSerializable(typeof(SetRequest))]
[JsonSerializable(typeof(PrefsResponse))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(PingRequest))]
[JsonSerializable(typeof(PingResponse))]
[JsonSerializable(typeof(ErrorResponse))]
public sealed partial class LocalApiJsonContext : JsonSerializerContext
{
    /// <summary>
    /// What the daemon writes with: '+' in base64 keys and apostrophes in messages stay as they are
    /// rather than \u002B and \u0027 (the answers are application/json, never embedded in HTML).
    /// </summary>
    public static LocalApiJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
