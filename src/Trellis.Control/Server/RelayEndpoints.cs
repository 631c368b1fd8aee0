using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Trellis.Control.Mesh;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Control.Server;

/// <summary>
/// What relays and netcheck ask the control server: the public relay map, and (for standalone relays,
/// which hold the region's mesh key) whether a node key belongs to an active node.
/// </summary>
internal static class RelayEndpoints
{
    /// <summary>Standalone relays ask here, with the mesh key as a bearer token: 204 admitted, 404 not.</summary>
    public const string AdmitPath = Relay.Server.ControlServerAdmission.PathPrefix + "{nodeKeyHex}";

    public static void Map(WebApplication app, MeshState mesh, Func<RelayMap> relayMap, string? meshKey)
    {
        // The relay map holds host names and ports only, which every node receives anyway.
        app.MapGet("/relay-map", () => Results.Json(relayMap(), ControlJsonContext.Default.RelayMap));

        app.MapGet(AdmitPath, (HttpContext context, string nodeKeyHex) =>
        {
            if (meshKey is null)
            {
                return Results.Problem("this server has no relay mesh key, so it admits no standalone relays", statusCode: StatusCodes.Status403Forbidden);
            }

            if (!PresentsKey(context.Request, meshKey))
            {
                return Results.Problem("a standalone relay must present the region's mesh key as a bearer token", statusCode: StatusCodes.Status401Unauthorized);
            }

            if (!Key.TryParseHex(nodeKeyHex, out var nodeKey))
            {
                return Results.Problem("a node key is 64 hex digits", statusCode: StatusCodes.Status400BadRequest);
            }

            return mesh.IsActiveNodeKey(nodeKey.ToBase64()) ? Results.NoContent() : Results.NotFound();
        });
    }

    private static bool PresentsKey(HttpRequest request, string meshKey)
    {
        var header = request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        if (!header.StartsWith(Bearer, StringComparison.Ordinal))
        {
            return false;
        }

        // Hash both sides so the comparison takes the same time whatever their lengths.
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header[Bearer.Length..].Trim()));
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(meshKey));
        return CryptographicOperations.FixedTimeEquals(presented, expected);
    }
}
