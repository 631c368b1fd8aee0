using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Store;

namespace Trellis.Control.Admin;

/// <summary>Subnet routes: approval makes an advertised prefix reach the node's peers.</summary>
internal static class RouteEndpoints
{
    public static void Map(RouteGroupBuilder api, ControlService service)
    {
        var store = service.Store;

        api.MapGet("/routes", async (HttpContext http) =>
            {
                var listed = await store.ListNodesAsync(null, http.RequestAborted).ConfigureAwait(false);
                return AdminResults.Json<IReadOnlyList<NodeRoutesDto>>(
                    [.. listed.Value!.Where(n => n.AdvertisedRoutes.Count > 0 || n.ApprovedRoutes.Count > 0).Select(NodeRoutesDto.From)],
                    AdminJsonContext.Relaxed.IReadOnlyListNodeRoutesDto);
            })
            .WithTags("Routes").WithName("ListRoutes").WithSummary("Every node's advertised, approved and served routes")
            .Returns<IReadOnlyList<NodeRoutesDto>>();

        api.MapPost("/nodes/{id}/routes/approve", (string id, HttpContext http) =>
                ChangeAsync(id, http, service, (nodeId, prefixes, ct) => store.ApproveRoutesAsync(nodeId, prefixes, ct)))
            .WithTags("Routes").WithName("ApproveRoutes").WithSummary("Approve prefixes the node advertises")
            .Body<RoutePrefixesRequest>().Returns<NodeRoutesDto>().Errors(400, 404);

        api.MapPost("/nodes/{id}/routes/reject", (string id, HttpContext http) =>
                ChangeAsync(id, http, service, (nodeId, prefixes, ct) => store.RejectRoutesAsync(nodeId, prefixes, ct)))
            .WithTags("Routes").WithName("RejectRoutes").WithSummary("Withdraw approval of prefixes")
            .Body<RoutePrefixesRequest>().Returns<NodeRoutesDto>().Errors(400, 404);
    }

    private static async Task<IResult> ChangeAsync(
        string id, HttpContext http, ControlService service, Func<long, IReadOnlyList<string>, CancellationToken, Task<StoreResult<Node>>> change)
    {
        if (!AdminResults.TryParseNodeId(id, out var nodeId, out var invalid))
        {
            return invalid!;
        }

        var (request, error) = await RequestBodies.ReadAsync(http.Request, AdminJsonContext.Relaxed.RoutePrefixesRequest).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        if (request!.Prefixes.Count == 0)
        {
            return AdminResults.Error(StatusCodes.Status400BadRequest, "give at least one prefix");
        }

        var changed = await change(nodeId, request.Prefixes, http.RequestAborted).ConfigureAwait(false);
        if (!changed.Succeeded)
        {
            return AdminResults.Failure(changed);
        }

        service.Refresh(changed.Value);
        return AdminResults.Json(NodeRoutesDto.From(changed.Value), AdminJsonContext.Relaxed.NodeRoutesDto);
    }
}
