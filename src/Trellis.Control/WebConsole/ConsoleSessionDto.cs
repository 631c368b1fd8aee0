using System.Text.Json.Serialization;

namespace Trellis.Control.WebConsole;

/// <summary>What the page learns about its session: who, whether an admin, and the CSRF token to send back with changes.</summary>
public sealed record ConsoleSessionDto(string User, string? Email, bool Admin, string Csrf, DateTimeOffset ExpiresAt);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ConsoleSessionDto))]
internal sealed partial class ConsoleJsonContext : JsonSerializerContext;
