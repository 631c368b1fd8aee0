using System.Net;

namespace Trellis.Net.Netlink;

/// <summary>A route as RTM_GETROUTE reports it.</summary>
/// <param name="Gateway">The next hop; null for a route straight out of the interface.</param>
/// <param name="Metric">RTA_PRIORITY: 0 when absent (IPv4's default); IPv6 routes always carry one (1024 by default).</param>
/// <param name="Protocol">RTPROT_*: who installed it (2 kernel, 3 boot as <c>ip route</c> does, 4 static as this client does).</param>
/// <param name="Scope">RT_SCOPE_*: 0 universe, 253 link, 254 host.</param>
/// <param name="Type">RTN_*: 1 unicast, 2 local, 3 broadcast, ...</param>
public sealed record RouteInfo(
    IPNetwork Destination,
    IPAddress? Gateway,
    int InterfaceIndex,
    uint Metric,
    uint Table,
    byte Protocol,
    byte Scope,
    byte Type)
{
    public override string ToString() =>
        $"{Destination}{(Gateway is null ? "" : $" via {Gateway}")} dev #{InterfaceIndex} metric {Metric} table {Table}";
}
