using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Store;

namespace Trellis.Control.Admin;

/// <summary>Plain WireGuard peers and the gateways they enter through.</summary>
internal static class PlainPeerEndpoints
{
    public static void Map(RouteGroupBuilder api, ControlService service, TimeProvider time)
    {
        var nodes = api.MapGroup("/nodes").WithTags("Nodes");

        nodes.MapPost("/wireguard", async (HttpContext http) =>
            {
                var (request, error) = await RequestBodies.ReadAsync(http.Request, AdminJsonContext.Relaxed.AddWireGuardPeerRequest).ConfigureAwait(false);
                if (error is not null)
                {
                    return error;
                }

                var added = await service.AddPlainPeerAsync(request!.Name, request.User, request.PublicKey, request.Gateway, http.RequestAborted).ConfigureAwait(false);
                return Answer(added, time, StatusCodes.Status201Created);
            })
            .WithName("AddWireGuardPeer").WithSummary("Register a plain WireGuard peer (a device with only a stock WireGuard client) behind a gateway; the answer holds its wg-quick configuration, with a generated private key when no public key was given (shown once, never stored)")
            .Body<AddWireGuardPeerRequest>().Returns<WireGuardConfigDto>(StatusCodes.Status201Created).Errors(400, 404, 409);

        nodes.MapGet("/{id}/wireguard-config", async (string id, HttpContext http) =>
            {
                if (!AdminResults.TryParseNodeId(id, out var nodeId, out var invalid))
                {
                    return invalid!;
                }

                return Answer(await service.PlainPeerConfigAsync(nodeId, http.RequestAborted).ConfigureAwait(false), time);
            })
            .WithName("GetWireGuardConfig").WithSummary("A plain WireGuard peer's wg-quick configuration, without a private key")
            .Returns<WireGuardConfigDto>().Errors(400, 404, 409);

        nodes.MapPost("/{id}/gateway", async (string id, HttpContext http) =>
            {
                if (!AdminResults.TryParseNodeId(id, out var nodeId, out var invalid))
                {
                    return invalid!;
                }

                var (request, error) = await RequestBodies.ReadAsync(http.Request, AdminJsonContext.Relaxed.SetGatewayRequest).ConfigureAwait(false);
                if (error is not null)
                {
                    return error;
                }

                var changed = await service.SetGatewayAsync(nodeId, request!.Enabled, request.Endpoint, http.RequestAborted).ConfigureAwait(false);
                return changed.Succeeded
                    ? AdminResults.Json(NodeDto.From(changed.Value, time.GetUtcNow()), AdminJsonContext.Relaxed.NodeDto)
                    : AdminResults.Failure(changed);
            })
            .WithName("SetGateway").WithSummary("Let a node serve plain WireGuard peers (it needs a UDP endpoint they can reach unasked), or stop it")
            .Body<SetGatewayRequest>().Returns<NodeDto>().Errors(400, 404, 409);
    }

    private static IResult Answer(StoreResult<PlainPeerConfig> result, TimeProvider time, int status = StatusCodes.Status200OK) =>
        result.Succeeded
            ? AdminResults.Json(new WireGuardConfigDto(NodeDto.From(result.Value.Node, time.GetUtcNow()), result.Value.Config), AdminJsonContext.Relaxed.WireGuardConfigDto, status)
            : AdminResults.Failure(result);
}
