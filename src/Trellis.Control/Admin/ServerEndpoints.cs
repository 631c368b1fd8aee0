using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trellis.Control.NodeProtocol;
using Trellis.Control.AccessControl;
using Trellis.Control.Server;
using Trellis.Core.Build;

namespace Trellis.Control.Admin;

/// <summary>The server itself: what runs, since when, over which database, how many nodes are in and online. Read from memory, no store query.</summary>
internal static class ServerEndpoints
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgresql";
    public const string PolicyNone = "none";

    public static void Map(RouteGroupBuilder api, ControlService service, ServerOptions options, PolicyService policy, TimeProvider time)
    {
        api.MapGet("/server", () =>
            {
                var now = time.GetUtcNow();
                var source = policy.PolicyFile is not null ? PolicyEndpoints.SourceFile
                    : policy.Current.Text is not null ? PolicyEndpoints.SourceDatabase
                    : PolicyNone;
                return AdminResults.Json(
                    new ServerInfoDto(
                        BuildInfo.Version,
                        BuildInfo.Commit,
                        BuildInfo.Runtime,
                        service.StartedAt,
                        (long)Math.Max(0, (now - service.StartedAt).TotalSeconds),
                        service.Mesh.NodeCount,
                        service.Mesh.SessionCount,
                        options.UsesPostgres ? Postgres : Sqlite,
                        options.Relay,
                        options.Relay && options.StunPort != 0 ? options.StunPort : null,
                        source,
                        policy.PolicyFile,
                        options.Sso is not null),
                    AdminJsonContext.Relaxed.ServerInfoDto);
            })
            .WithTags("Server").WithName("GetServer").WithSummary("The server's version, uptime, node counts, database, relay and policy source")
            .Returns<ServerInfoDto>();
    }
}
