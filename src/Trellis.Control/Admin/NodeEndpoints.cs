using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trellis.Control.NodeProtocol;

namespace Trellis.Control.Admin;

/// <summary>Node administration. Every change goes through <see cref="ControlService"/>: the store first, then the live mesh.</summary>
internal static class NodeEndpoints
{
    public static void Map(RouteGroupBuilder api, ControlService service, TimeProvider time)
    {
        var store = service.Store;
        var nodes = api.MapGroup("/nodes").WithTags("Nodes");

        nodes.MapGet("", async (string? user, HttpContext http) =>
            {
                // A console member sees their own nodes whatever they asked for.
                user = AdminAuthentication.OwnerScope(http) ?? user;
                var listed = await store.ListNodesAsync(string.IsNullOrEmpty(user) ? null : user, http.RequestAborted).ConfigureAwait(false);
                if (!listed.Succeeded)
                {
                    return AdminResults.Failure(listed);
                }

                var now = time.GetUtcNow();
                var gateways = await GatewaysOfAsync(store, listed.Value, http.RequestAborted).ConfigureAwait(false);
                return AdminResults.Json<IReadOnlyList<NodeDto>>(
                    [.. listed.Value.Select(n => NodeDto.From(n, now, n.GatewayId is { } gateway ? gateways.GetValueOrDefault(gateway) : null))],
                    AdminJsonContext.Relaxed.IReadOnlyListNodeDto);
            })
            .WithName(AdminAuthentication.MemberEndpoint).WithSummary("List nodes, or one user's")
            .Returns<IReadOnlyList<NodeDto>>().Errors(400, 404);

        nodes.MapDelete("/{id}", async (string id, HttpContext http) =>
            {
                if (!AdminResults.TryParseNodeId(id, out var nodeId, out var invalid))
                {
                    return invalid!;
                }

                var deleted = await service.DeleteNodeAsync(nodeId, http.RequestAborted).ConfigureAwait(false);
                return deleted.Succeeded ? Results.NoContent() : AdminResults.Failure(deleted);
            })
            .WithName("DeleteNode").WithSummary("Delete a node; its peers drop it and its own stream ends")
            .Produces(StatusCodes.Status204NoContent).Errors(400, 404);

        nodes.MapPost("/{id}/expire", async (string id, HttpContext http) =>
            {
                if (!AdminResults.TryParseNodeId(id, out var nodeId, out var invalid))
                {
                    return invalid!;
                }

                var expired = await service.ExpireNodeAsync(nodeId, http.RequestAborted).ConfigureAwait(false);
                return Answer(expired, time);
            })
            .WithName("ExpireNode").WithSummary("Expire a node's key now; it leaves the mesh until it registers again with a new node key")
            .Returns<NodeDto>().Errors(400, 404, 409);

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

                var renamed = await service.RenameNodeAsync(nodeId, request!.Name, http.RequestAborted).ConfigureAwait(false);
                return Answer(renamed, time);
            })
            .WithName("RenameNode").WithSummary("Rename a node (a DNS label no other node has)")
            .Body<RenameNodeRequest>().Returns<NodeDto>().Errors(400, 404, 409);

        nodes.MapPost("/{id}/tags", async (string id, HttpContext http) =>
            {
                if (!AdminResults.TryParseNodeId(id, out var nodeId, out var invalid))
                {
                    return invalid!;
                }

                var (request, error) = await RequestBodies.ReadAsync(http.Request, AdminJsonContext.Relaxed.SetNodeTagsRequest).ConfigureAwait(false);
                if (error is not null)
                {
                    return error;
                }

                var tagged = await service.TagNodeAsync(nodeId, request!.Tags, http.RequestAborted).ConfigureAwait(false);
                return Answer(tagged, time);
            })
            .WithName("TagNode").WithSummary("Replace a node's tags: they own it from now on (only tags the policy's tagOwners allow)")
            .Body<SetNodeTagsRequest>().Returns<NodeDto>().Errors(400, 403, 404);

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

                var approved = await service.ApproveNodeAsync(nodeId, request!.User, request.Tags, http.RequestAborted).ConfigureAwait(false);
                return Answer(approved, time);
            })
            .WithName("ApproveNode").WithSummary("Let a pending node in, for a user or tags (or its previous owner); a new node gets its addresses now")
            .Body<ApproveNodeRequest>(optional: true).Returns<NodeDto>().Errors(400, 404, 409);
    }

    /// <summary>The gateways of the listed plain peers, from the list itself or (one user's list) the store.</summary>
    private static async Task<Dictionary<long, Store.Node>> GatewaysOfAsync(Store.ControlStore store, IReadOnlyList<Store.Node> listed, CancellationToken cancellationToken)
    {
        var byId = listed.ToDictionary(n => n.Id);
        var gateways = new Dictionary<long, Store.Node>();
        foreach (var id in listed.Where(n => n.GatewayId is not null).Select(n => n.GatewayId!.Value).Distinct())
        {
            if ((byId.GetValueOrDefault(id) ?? await store.GetNodeByIdAsync(id, cancellationToken).ConfigureAwait(false)) is { } gateway)
            {
                gateways[id] = gateway;
            }
        }

        return gateways;
    }

    private static IResult Answer(Store.StoreResult<Store.Node> changed, TimeProvider time) =>
        changed.Succeeded
            ? AdminResults.Json(NodeDto.From(changed.Value, time.GetUtcNow()), AdminJsonContext.Relaxed.NodeDto)
            : AdminResults.Failure(changed);
}
