using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Trellis.Control.Admin;

/// <summary>The admin API's JSON, shared by the server and the CLI so both read the same shapes.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(IReadOnlyList<UserDto>))]
[JsonSerializable(typeof(AuthKeyDto))]
[JsonSerializable(typeof(IReadOnlyList<AuthKeyDto>))]
[JsonSerializable(typeof(CreatedAuthKeyDto))]
[JsonSerializable(typeof(ApiKeyDto))]
[JsonSerializable(typeof(IReadOnlyList<ApiKeyDto>))]
[JsonSerializable(typeof(CreatedApiKeyDto))]
[JsonSerializable(typeof(NodeDto))]
[JsonSerializable(typeof(IReadOnlyList<NodeDto>))]
[JsonSerializable(typeof(NodeRoutesDto))]
[JsonSerializable(typeof(IReadOnlyList<NodeRoutesDto>))]
[JsonSerializable(typeof(PolicyDto))]
[JsonSerializable(typeof(PolicyCheckDto))]
[JsonSerializable(typeof(SetNodeTagsRequest))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(CreateAuthKeyRequest))]
[JsonSerializable(typeof(CreateApiKeyRequest))]
[JsonSerializable(typeof(RenameNodeRequest))]
[JsonSerializable(typeof(ApproveNodeRequest))]
[JsonSerializable(typeof(RoutePrefixesRequest))]
[JsonSerializable(typeof(AddWireGuardPeerRequest))]
[JsonSerializable(typeof(SetGatewayRequest))]
[JsonSerializable(typeof(WireGuardConfigDto))]
[JsonSerializable(typeof(ServerInfoDto))]
public sealed partial class AdminJsonContext : JsonSerializerContext
{
    /// <summary>
    /// What the server writes with: '+' in base64 keys and quotes in messages stay as they are
    /// rather than \u002B and \u0027. The answers are application/json, never embedded in HTML.
    /// </summary>
    public static AdminJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        RespectNullableAnnotations = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
