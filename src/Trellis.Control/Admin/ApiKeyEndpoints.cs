using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trellis.Control.NodeProtocol;

namespace Trellis.Control.Admin;

internal static class ApiKeyEndpoints
{
    public static void Map(RouteGroupBuilder api, ControlService service, TimeProvider time)
    {
        var store = service.Store;
        var keys = api.MapGroup("/apikeys").WithTags("API keys");

        keys.MapPost("", async (HttpContext http) =>
            {
                var (request, error) = await RequestBodies.ReadAsync(http.Request, AdminJsonContext.Relaxed.CreateApiKeyRequest, new CreateApiKeyRequest()).ConfigureAwait(false);
                if (error is not null)
                {
                    return error;
                }

                var now = time.GetUtcNow();
                if (!Expirations.TryParse(request!.Expiration, now, Expirations.DefaultApiKeyLifetime, out var expiresAt, out var invalid))
                {
                    return AdminResults.Error(StatusCodes.Status400BadRequest, invalid);
                }

                var created = await store.CreateApiKeyAsync(expiresAt, http.RequestAborted).ConfigureAwait(false);
                return created.Succeeded
                    ? AdminResults.Json(
                        new CreatedApiKeyDto(ApiKeyDto.From(created.Value.Key, now), created.Value.Plaintext),
                        AdminJsonContext.Relaxed.CreatedApiKeyDto,
                        StatusCodes.Status201Created)
                    : AdminResults.Failure(created);
            })
            .WithName("CreateApiKey").WithSummary("Create an admin API key; the full key is in this answer only")
            .Body<CreateApiKeyRequest>(optional: true).Returns<CreatedApiKeyDto>(StatusCodes.Status201Created).Errors(400);

        keys.MapGet("", async (HttpContext http) =>
            {
                var all = await store.ListApiKeysAsync(http.RequestAborted).ConfigureAwait(false);
                var now = time.GetUtcNow();
                return AdminResults.Json<IReadOnlyList<ApiKeyDto>>([.. all.Select(k => ApiKeyDto.From(k, now))], AdminJsonContext.Relaxed.IReadOnlyListApiKeyDto);
            })
            .WithName("ListApiKeys").WithSummary("List admin API keys")
            .Returns<IReadOnlyList<ApiKeyDto>>();

        keys.MapPost("/{prefix}/expire", async (string prefix, HttpContext http) =>
            {
                var expired = await store.ExpireApiKeyAsync(prefix, http.RequestAborted).ConfigureAwait(false);
                return expired.Succeeded
                    ? AdminResults.Json(ApiKeyDto.From(expired.Value, time.GetUtcNow()), AdminJsonContext.Relaxed.ApiKeyDto)
                    : AdminResults.Failure(expired);
            })
            .WithName("ExpireApiKey").WithSummary("End an admin API key now")
            .Returns<ApiKeyDto>().Errors(404);
    }
}
