using System.Net;
using System.Net.Sockets;
using Trellis.Net.Netlink;

namespace Trellis.Node.Engine;

/// <summary>
/// The operating-system side of the data plane: the TUN's link state, addresses and routes, IP
/// forwarding and masquerading. The engine works out what should change and calls these one change
/// at a time, so each is small and idempotent: adding what exists or removing what is gone succeeds.
/// A failure throws; the engine reports it and tries again with the next map.
/// </summary>
public interface IOsNetworkConfig : IDisposable
{
    /// <summary>Sets the interface's MTU and brings it up.</summary>
    void ConfigureLink(string interfaceName, int mtu);

    void AddAddress(string interfaceName, InterfaceAddress address);

    void RemoveAddress(string interfaceName, InterfaceAddress address);

    /// <summary>Routes <paramref name="destination"/> out of the interface (no gateway: a TUN is point-to-point).</summary>
    void AddRoute(string interfaceName, IPNetwork destination);

    void RemoveRoute(string interfaceName, IPNetwork destination);

    /// <summary>Routes <paramref name="destination"/> out of the interface in routing table <paramref name="table"/>, from <paramref name="source"/> (replacing a route to it there).</summary>
    void AddTableRoute(string interfaceName, IPNetwork destination, uint table, IPAddress? source);

    void RemoveTableRoute(string interfaceName, IPNetwork destination, uint table);

    /// <summary>Adds a routing policy rule (exit nodes: see <see cref="ExitRouting"/>).</summary>
    void AddRule(RoutingRule rule);

    void RemoveRule(RoutingRule rule);

    /// <summary>
    /// Keeps replies to marked connections marked (conntrack mark restored on the way in, in firewall
    /// table <paramref name="table"/>) and lets reverse-path filtering see that mark (src_valid_mark),
    /// so strict rp_filter does not drop the underlay's replies while an exit node is in use.
    /// </summary>
    void SetMarkRestore(string table, uint mark);

    void RemoveMarkRestore(string table);

    bool IsSrcValidMarkEnabled();

    void SetSrcValidMark(bool enabled);

    bool IsForwardingEnabled(AddressFamily family);

    void SetForwarding(AddressFamily family, bool enabled);

    /// <summary>Installs exactly <paramref name="rules"/> in the firewall table <paramref name="table"/>, replacing what it held.</summary>
    void SetMasquerade(string table, IReadOnlyList<MasqueradeRule> rules);

    /// <summary>Deletes the firewall table <paramref name="table"/> if it exists.</summary>
    void RemoveMasquerade(string table);
}

/// <summary>Traffic from <paramref name="Source"/> to <paramref name="Destination"/> (one family) leaves with the outgoing interface's address.</summary>
public readonly record struct MasqueradeRule(IPNetwork Source, IPNetwork Destination)
{
    public override string ToString() => $"{Source} -> {Destination}";
}
