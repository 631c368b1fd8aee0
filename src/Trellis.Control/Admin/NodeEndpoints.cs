using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trellis.Control.NodeProtocol;

namespace Trellis.Control.Admin;

/// <summary>Node administration. Every change is written to the store, then handed to the live mesh.</summary>
internal static class NodeEndpoints
{
    public static void Map(RouteGroupBuilder api, ControlService service, TimeProvider time)
    {
        var store = service.Store;
        var nodes = api.MapGroup("/nodes").WithTags("Nodes");

        nodes.MapGet("", async (string? user, HttpContext http) =>
            {
                var listed = await store.ListNodesAsync(string.IsNullOrEmpty(user) ? null : user, http.RequestAborted).ConfigureAwait(false);
                if (!listed.Succeeded)
                {
                    return AdminResults.Failure(listed);
                }

                var now = time.GetUtcNow();
                return AdminResults.Json<IReadOnlyList<NodeDto>>([.. listed.Value.Select(n => NodeDto.From(n, now))], AdminJsonContext.Relaxed.IReadOnlyListNodeDto);
            })
            .WithName("ListNodes").WithSummary("List nodes, or one user's")
            .Returns<IReadOnlyList<NodeDto>>().Errors(400, 404);

        nodes.MapDelete("/{id}", async (string id, HttpContext http) =>
            {
                if (!AdminResults.TryParseNodeId(id, out var nodeId, out var invalid))
                {
                    return invalid!;
                }

                var deleted = await store.DeleteNodeAsync(nodeId, http.RequestAborted).ConfigureAwait(false);
                if (!deleted.Succeeded)
                {
                    return AdminResults.Failure(deleted);
                }

                service.Removed(nodeId, "deleted by an admin");
                return Results.NoContent();
            })
            .WithName("DeleteNode").WithSummary("Delete a node; its peers drop it and its own stream ends")
            .Produces(StatusCodes.Status204NoContent).Errors(400, 404);

        nodes.MapPost("/{id}/expire", async (string id, HttpContext http) =>
            {
                if (!AdminResults.TryParseNodeId(id, out var nodeId, out var invalid))
                {
                    return invalid!;
                }

                var expired = await store.ExpireNodeAsync(nodeId, http.RequestAborted).ConfigureAwait(false);
                if (!expired.Succeeded)
                {
                    return AdminResults.Failure(expired);
                }

                service.Removed(nodeId, "key expired by an admin");
                return AdminResults.Json(NodeDto.From(expired.Value, time.GetUtcNow()), AdminJsonContext.Relaxed.NodeDto);
            })
            .WithName("ExpireNode").WithSummary("Expire a node's key now; it must re-authenticate")
            .Returns<NodeDto>().Errors(400, 404);

        nodes.MapPost("/{id}/rename", async (string id, HttpContext http) =>
            {
                if (!AdminResults.TryParseNodeId(id, out var nodeId, out var invalid))
                {
                    return invalid!;
                }

                var (request, error) = await RequestBodies.ReadAsync(http.Request, AdminJsonContext.Relaxed.RenameNodeRequest).ConfigureAwait(false);
                if (error is not null)
                {
                    return error;
                }

                var renamed = await store.RenameNodeAsync(nodeId, request!.Name, http.RequestAborted).ConfigureAwait(false);
                return Published(service, renamed, time);
            })
            .WithName("RenameNode").WithSummary("Rename a node (a DNS label no other node has)")
            .Body<RenameNodeRequest>().Returns<NodeDto>().Errors(400, 404, 409);

        nodes.MapPost("/{id}/approve", async (string id, HttpContext http) =>
            {
                if (!AdminResults.TryParseNodeId(id, out var nodeId, out var invalid))
                {
                    return invalid!;
                }

                var (request, error) = await RequestBodies.ReadAsync(http.Request, AdminJsonContext.Relaxed.ApproveNodeRequest, new ApproveNodeRequest()).ConfigureAwait(false);
                if (error is not null)
                {
                    return error;
                }

                var approved = await store.ApproveNodeAsync(nodeId, request!.User, request.Tags, http.RequestAborted).ConfigureAwait(false);
                return Published(service, approved, time);
            })
            .WithName("ApproveNode").WithSummary("Let a pending node in, for a user or tags (or its previous owner)")
            .Body<ApproveNodeRequest>(optional: true).Returns<NodeDto>().Errors(400, 404, 409);
    }

    private static IResult Published(ControlService service, Store.StoreResult<Store.Node> changed, TimeProvider time)
    {
        if (!changed.Succeeded)
        {
            return AdminResults.Failure(changed);
        }

        service.Refresh(changed.Value);
        return AdminResults.Json(NodeDto.From(changed.Value, time.GetUtcNow()), AdminJsonContext.Relaxed.NodeDto);
    }
}
