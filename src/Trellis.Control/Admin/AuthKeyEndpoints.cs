using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trellis.Control.NodeProtocol;

namespace Trellis.Control.Admin;

internal static class AuthKeyEndpoints
{
    public static void Map(RouteGroupBuilder api, ControlService service, TimeProvider time)
    {
        var store = service.Store;
        var keys = api.MapGroup("/authkeys").WithTags("Auth keys");

        keys.MapPost("", async (HttpContext http) =>
            {
                var (request, error) = await RequestBodies.ReadAsync(http.Request, AdminJsonContext.Relaxed.CreateAuthKeyRequest).ConfigureAwait(false);
                if (error is not null)
                {
                    return error;
                }

                var now = time.GetUtcNow();
                if (!Expirations.TryParse(request!.Expiration, now, Expirations.DefaultAuthKeyLifetime, out var expiresAt, out var invalid))
                {
                    return AdminResults.Error(StatusCodes.Status400BadRequest, invalid);
                }

                var created = await store.CreateAuthKeyAsync(
                    request.User, request.Tags, request.Reusable, request.Ephemeral, expiresAt, http.RequestAborted).ConfigureAwait(false);
                return created.Succeeded
                    ? AdminResults.Json(
                        new CreatedAuthKeyDto(AuthKeyDto.From(created.Value.Key, now), created.Value.Plaintext),
                        AdminJsonContext.Relaxed.CreatedAuthKeyDto,
                        StatusCodes.Status201Created)
                    : AdminResults.Failure(created);
            })
            .WithName("CreateAuthKey").WithSummary("Create an auth key for a user or for tags; the full key is in this answer only")
            .Body<CreateAuthKeyRequest>().Returns<CreatedAuthKeyDto>(StatusCodes.Status201Created).Errors(400, 404);

        keys.MapGet("", async (string? user, HttpContext http) =>
            {
                var listed = await store.ListAuthKeysAsync(string.IsNullOrEmpty(user) ? null : user, http.RequestAborted).ConfigureAwait(false);
                if (!listed.Succeeded)
                {
                    return AdminResults.Failure(listed);
                }

                var now = time.GetUtcNow();
                return AdminResults.Json<IReadOnlyList<AuthKeyDto>>([.. listed.Value.Select(k => AuthKeyDto.From(k, now))], AdminJsonContext.Relaxed.IReadOnlyListAuthKeyDto);
            })
            .WithName("ListAuthKeys").WithSummary("List auth keys, or one user's")
            .Returns<IReadOnlyList<AuthKeyDto>>().Errors(400, 404);

        keys.MapPost("/{prefix}/expire", async (string prefix, HttpContext http) =>
            {
                var expired = await store.ExpireAuthKeyAsync(prefix, http.RequestAborted).ConfigureAwait(false);
                return expired.Succeeded
                    ? AdminResults.Json(AuthKeyDto.From(expired.Value, time.GetUtcNow()), AdminJsonContext.Relaxed.AuthKeyDto)
                    : AdminResults.Failure(expired);
            })
            .WithName("ExpireAuthKey").WithSummary("Revoke an auth key; nodes it registered stay")
            .Returns<AuthKeyDto>().Errors(404);
    }
}
