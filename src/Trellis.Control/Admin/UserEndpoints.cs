using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trellis.Control.NodeProtocol;

namespace Trellis.Control.Admin;

internal static class UserEndpoints
{
    public static void Map(RouteGroupBuilder api, ControlService service)
    {
        var store = service.Store;
        var users = api.MapGroup("/users").WithTags("Users");

        users.MapPost("", async (HttpContext http) =>
            {
                var (request, error) = await RequestBodies.ReadAsync(http.Request, AdminJsonContext.Relaxed.CreateUserRequest).ConfigureAwait(false);
                if (error is not null)
                {
                    return error;
                }

                var created = await store.CreateUserAsync(request!.Name, http.RequestAborted).ConfigureAwait(false);
                return created.Succeeded
                    ? AdminResults.Json(UserDto.From(created.Value), AdminJsonContext.Relaxed.UserDto, StatusCodes.Status201Created)
                    : AdminResults.Failure(created);
            })
            .WithName("CreateUser").WithSummary("Create a user")
            .Body<CreateUserRequest>().Returns<UserDto>(StatusCodes.Status201Created).Errors(400, 409);

        users.MapGet("", async (HttpContext http) =>
            {
                var all = await store.ListUsersAsync(http.RequestAborted).ConfigureAwait(false);
                return AdminResults.Json<IReadOnlyList<UserDto>>([.. all.Select(UserDto.From)], AdminJsonContext.Relaxed.IReadOnlyListUserDto);
            })
            .WithName("ListUsers").WithSummary("List users")
            .Returns<IReadOnlyList<UserDto>>();

        users.MapDelete("/{name}", async (string name, HttpContext http) =>
            {
                var deleted = await store.DeleteUserAsync(name, http.RequestAborted).ConfigureAwait(false);
                return deleted.Succeeded ? Results.NoContent() : AdminResults.Failure(deleted);
            })
            .WithName("DeleteUser").WithSummary("Delete a user and their auth keys (refused while they own nodes)")
            .Produces(StatusCodes.Status204NoContent).Errors(400, 404, 409);
    }
}
