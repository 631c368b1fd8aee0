using System.Text.Json.Serialization;

namespace Trellis.Control.WebConsole;

/// <summary>What the page learns about its session: who, whether an admin, and the CSRF token to send back with changes.</summary>
public sealed record ConsoleSessionDto(string User, string? Email, bool Admin, string Csrf, DateTimeOffset ExpiresAt);

/// <summary>The ways in the sign-in page offers: the identity provider (when the server has one) and an admin API key.</summary>
public sealed record ConsoleSignInMethodsDto(bool SingleSignOn, bool ApiKey);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ConsoleSessionDto))]
[JsonSerializable(typeof(ConsoleSignInMethodsDto))]
internal sealed partial class ConsoleJsonContext : JsonSerializerContext;
