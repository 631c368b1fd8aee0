using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Trellis.Relay.Server;

public static class RelayEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves <paramref name="server"/> at <paramref name="pattern"/> (conventionally
    /// <c>/relay</c>): HTTP Upgrade, and WebSocket on the same path (the WebSocket middleware is
    /// added for this endpoint, so the host need not). The relay's mesh links start when the host
    /// has started, and clients are told to reconnect when it stops.
    /// </summary>
    public static IEndpointConventionBuilder MapRelay(this IEndpointRouteBuilder endpoints, string pattern, RelayServer server)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(server);
        var lifetime = endpoints.ServiceProvider.GetService<IHostApplicationLifetime>();
        if (lifetime is not null)
        {
            lifetime.ApplicationStarted.Register(server.Start);
            lifetime.ApplicationStopping.Register(server.BeginShutdown);
        }

        var pipeline = endpoints.CreateApplicationBuilder();
        pipeline.UseWebSockets();
        pipeline.Run(server.HandleAsync);
        return endpoints.Map(pattern, pipeline.Build());
    }
}
