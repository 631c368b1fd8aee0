using System.Net;
using Trellis.Core.Keys;
using Trellis.Core.Transport;

namespace Trellis.Node.Engine;

/// <summary>
/// What the device and the OS should look like for one map and the node's settings: computed by
/// <see cref="EnginePlanner"/> without side effects, then reached by <see cref="WireGuardEngine"/>
/// one difference at a time.
/// </summary>
internal sealed record EnginePlan(
    IReadOnlyList<InterfaceAddress> Addresses,
    IReadOnlyList<IPNetwork> Routes,
    IReadOnlyList<PlannedPeer> Peers,
    SubnetRouterPlan? SubnetRouter,
    IReadOnlyList<string> Problems)
{
    /// <summary>Set while the node sends its internet traffic through an exit node (whether or not that node is usable now).</summary>
    public ExitNodePlan? ExitNode { get; init; }

    /// <summary>On a gateway: other nodes' subnet routes its plain peers' traffic is forwarded to (see <see cref="GatewayRouting"/>).</summary>
    public IReadOnlyList<IPNetwork> GatewayRoutes { get; init; } = [];
}

/// <summary>
/// Internet traffic goes into the tunnel by policy routing. The routing stays while the setting does,
/// even when the exit node is gone from the map or not approved: traffic is then dropped, never sent around it.
/// </summary>
/// <param name="Given">The exit node as the user named it.</param>
/// <param name="PeerId">The peer that now holds the default routes, or null when none does.</param>
/// <param name="Sources">This node's own overlay addresses (IPv4, IPv6): the source of what it sends through the exit node, never a LAN address the exit node would drop as spoofed.</param>
public sealed record ExitNodePlan(string Given, bool AllowLanAccess, long? PeerId, string? PeerName, string? Problem)
{
    public IReadOnlyList<System.Net.IPAddress> Sources { get; init; } = [];
}

/// <summary>One WireGuard peer. Each prefix in <paramref name="AllowedIps"/> belongs to no other planned peer.</summary>
/// <param name="Endpoint">Where to send, or null when the peer reported nothing usable.</param>
/// <param name="Plain">A plain WireGuard peer this node is the gateway of: no discovery, no keepalives of ours (it keeps its NAT open itself).</param>
internal sealed record PlannedPeer(long Id, Key Key, IReadOnlyList<IPNetwork> AllowedIps, Endpoint? Endpoint, bool Plain = false);

/// <summary>This node forwards between the mesh and its approved advertised prefixes.</summary>
internal sealed record SubnetRouterPlan(
    IReadOnlyList<IPNetwork> Prefixes,
    bool ForwardIPv4,
    bool ForwardIPv6,
    IReadOnlyList<MasqueradeRule> Masquerade);
