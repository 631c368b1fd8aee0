using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace Trellis.Relay.Server;

public static class RelayServiceCollectionExtensions
{
    /// <summary>
    /// Gives the host's Kestrel 32 KiB receive blocks instead of 4 KiB, so the relay takes a burst of
    /// small frames in one receive call. For any host that maps the relay; call before building it.
    /// </summary>
    public static IServiceCollection AddRelayBuffers(this IServiceCollection services) =>
        services.AddSingleton<IMemoryPoolFactory<byte>>(BurstMemoryPool.Instance);
}
