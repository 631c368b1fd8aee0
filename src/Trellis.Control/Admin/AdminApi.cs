using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Trellis.Control.AccessControl;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Policy;
using Trellis.Control.Server;
using Trellis.Control.WebConsole;

namespace Trellis.Control.Admin;

/// <summary>
/// The REST admin API under /api/v1 and its OpenAPI document at /openapi/v1.json. Callers
/// authenticate with an API key, except over the server's own Unix socket (see
/// <see cref="LocalAdminSocket"/>). The host wires it in:
/// <see cref="AddServices"/> before building, <see cref="PrepareSocket"/> before Kestrel binds the
/// admin socket, <see cref="Map"/> before starting, <see cref="SecureSocket"/> right after.
/// </summary>
public static class AdminApi
{
    public const string Prefix = "/api/v1";
    public const string DocumentName = "v1";

    public static void AddServices(IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, AdminJsonContext.Default));
        services.AddOpenApi(DocumentName, openApi =>
        {
            // The document describes the admin API only; the node protocol is a WebSocket, not REST.
            openApi.ShouldInclude = description => description.RelativePath?.StartsWith("api/v1/", StringComparison.Ordinal) == true;
            openApi.AddDocumentTransformer(AdminOpenApi.DescribeAsync);
        });
    }

    /// <param name="policy">The access policy service (default: one over this service, with no policy compiler).</param>
    /// <param name="consoleSessions">The web console's sessions, whose cookie the API then accepts (null: the console is off).</param>
    public static void Map(WebApplication app, ControlService service, ServerOptions options, PolicyService? policy = null, ConsoleSessions? consoleSessions = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(options);
        var time = app.Services.GetService<TimeProvider>() ?? TimeProvider.System;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Trellis.Control.Admin");

        // Filters run in the order added: errors outermost, so a failing key check is caught too.
        var api = app.MapGroup(Prefix)
            .AddEndpointFilter(new AdminErrorFilter(logger))
            .AddEndpointFilter(new AdminAuthentication(service.Store, options.EffectiveAdminSocket, logger, consoleSessions));
        api.WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(ErrorResponse), ["application/json"]));
        UserEndpoints.Map(api, service);
        AuthKeyEndpoints.Map(api, service, time);
        NodeEndpoints.Map(api, service, time);
        PlainPeerEndpoints.Map(api, service, time);
        RouteEndpoints.Map(api, service);
        ApiKeyEndpoints.Map(api, service, time);
        policy ??= new PolicyService(service, new HuJsonPolicyCompiler(), options.PolicyFile, app.Services.GetRequiredService<ILogger<PolicyService>>());
        PolicyEndpoints.Map(api, policy);
        ServerEndpoints.Map(api, service, options, policy, time);

        app.MapFallback(Prefix + "/{**path}", (HttpContext http) =>
                AdminResults.Error(StatusCodes.Status404NotFound, $"no such admin endpoint: {http.Request.Method} {http.Request.Path}"))
            .ExcludeFromDescription();
        app.MapOpenApi();
    }

    /// <summary>Removes a socket file a dead server left behind; fails if a live server owns it.</summary>
    public static void PrepareSocket(string path) => LocalAdminSocket.Prepare(path);

    /// <summary>Restricts the admin socket to its owner (0600); call once Kestrel has created it.</summary>
    public static void SecureSocket(string path) => LocalAdminSocket.Secure(path);
}
