namespace Trellis.Node.Engine;

/// <summary>
/// The data plane of a node: the TUN, the WireGuard device and the OS configuration that goes with
/// them. The daemon hands it every new <see cref="NetMap"/>; it reconciles in place.
/// </summary>
public interface IEngine : IAsyncDisposable
{
    /// <summary>The UDP port WireGuard listens on (the node's endpoints are its addresses with this port).</summary>
    ushort ListenPort { get; }

    /// <summary>
    /// Makes the device and the OS match <paramref name="map"/>: addresses, routes, peers. Idempotent;
    /// peers and routes that did not change are left alone, so their tunnels are not disturbed.
    /// </summary>
    Task ApplyAsync(NetMap map, EngineSettings settings, CancellationToken cancellationToken);

    /// <summary>Per-peer counters and paths, for `trellis status`.</summary>
    EngineStatus Status();

    /// <summary>A discovery-level ping to a peer on every path at once: the first path that answers, or null (unknown peer, or no paths).</summary>
    Task<EnginePing?> PingAsync(string nodeKey, CancellationToken cancellationToken);

    /// <summary>This node's endpoints as seen from outside (STUN through its own socket), ip:port.</summary>
    IReadOnlyList<string> PublicEndpoints { get; }

    /// <summary>Raised when <see cref="PublicEndpoints"/> (or <see cref="PubliclyReachable"/>, <see cref="MappingVaries"/>) changed, so the node reports them to the control server.</summary>
    event Action? PublicEndpointsChanged;

    /// <summary>The relay region peers reach this node through (0: none yet), reported to the control server.</summary>
    int HomeRegion { get; }

    /// <summary>Raised when <see cref="HomeRegion"/> changed, so the node reports it to the control server.</summary>
    event Action? HomeRegionChanged;

    /// <summary>Whether peers anywhere can send to this node's UDP port unasked (a public address, or a port mapping): what a peer relay needs.</summary>
    bool PubliclyReachable => false;

    /// <summary>Whether STUN found this node's IPv4 NAT giving a new public port per destination (a "hard" NAT), so peers start port guessing at once.</summary>
    bool MappingVaries => false;
}
