using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>
/// Keeping paths out of the tunnel: an endpoint the node routes into its own TUN (a peer's overlay
/// address, an address inside an accepted subnet route) is reached through WireGuard itself, so a
/// "direct path" there would wrap every packet again and again. Such endpoints are never added as
/// candidates, never pinged, and a ping arriving from one is dropped; when the routes change, the
/// paths they now cover are forgotten.
/// </summary>
public sealed partial class DiscoveryBind
{
    private volatile TunnelRoutes _tunnelRoutes = TunnelRoutes.None;
    private long _tunnelPathsRefused;

    /// <summary>Candidate endpoints and ping sources refused because they lie inside a tunnel route.</summary>
    public long TunnelPathsRefused => Interlocked.Read(ref _tunnelPathsRefused);

    /// <summary>
    /// The prefixes this node routes into its tunnel. Call it with every change of the engine's routes,
    /// before they are installed, so no path is proven through a route about to appear.
    /// </summary>
    public void SetTunnelRoutes(TunnelRoutes routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        _tunnelRoutes = routes;
        foreach (var peer in _table.ByNodeKey.Values)
        {
            lock (peer.Sync)
            {
                foreach (var e in peer.Paths.Keys.Where(e => routes.Contains(e)).ToList())
                {
                    peer.Paths.Remove(e);
                    _byEndpoint.TryRemove(KeyValuePair.Create(e, peer));
                    if (peer.Direct?.Endpoint == e)
                    {
                        // Back to the relay until a path outside the tunnel is proven.
                        peer.Direct = null;
                    }
                }
            }
        }
    }

    /// <summary>Whether the endpoint is inside a tunnel route (counted when it is).</summary>
    private bool RefusedAsTunnel(in Endpoint endpoint)
    {
        if (!_tunnelRoutes.Contains(endpoint))
        {
            return false;
        }

        Interlocked.Increment(ref _tunnelPathsRefused);
        return true;
    }
}
