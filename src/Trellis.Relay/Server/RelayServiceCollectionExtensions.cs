using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace Trellis.Relay.Server;

public static class RelayServiceCollectionExtensions
{
    /// <summary>
    /// Gives the host's Kestrel 32 KiB receive blocks instead of 4 KiB, so the relay takes a burst of
    /// small frames in one receive call. For a relay host; call before building it. Kestrel uses the
    /// same blocks for sending, and a connection whose writes wait on a slow reader holds one: a host
    /// with thousands of such connections (the control server's nodes) keeps Kestrel's 4 KiB blocks.
    /// </summary>
    public static IServiceCollection AddRelayBuffers(this IServiceCollection services) =>
        services.AddSingleton<IMemoryPoolFactory<byte>>(BurstMemoryPool.Instance);
}
