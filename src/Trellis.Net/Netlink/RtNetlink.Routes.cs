using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Trellis.Net.Netlink;

public sealed partial class RtNetlink
{
    /// <summary>
    /// Adds a route to <paramref name="destination"/> out of the interface, through
    /// <paramref name="gateway"/> when given (it must be on-link), with protocol "static".
    /// Throws EEXIST when the table has a route to that prefix already (with that metric, for IPv6).
    /// </summary>
    /// <param name="metric">RTA_PRIORITY; null for the kernel's default (0 for IPv4, 1024 for IPv6).</param>
    /// <param name="table">Any table but <see cref="RouteTable.Unspecified"/>; ids above 255 go in RTA_TABLE.</param>
    public void AddRoute(string interfaceName, IPNetwork destination, IPAddress? gateway = null, uint? metric = null, uint table = RouteTable.Main) =>
        ModifyRoute(RouteChange.Add, interfaceName, destination, gateway, metric, table);

    /// <summary>Adds the route, or replaces the one to the same prefix (and metric, for IPv6) in the table.</summary>
    /// <param name="source">RTA_PREFSRC: the source address for traffic the route carries, when the socket chose none.</param>
    public void ReplaceRoute(string interfaceName, IPNetwork destination, IPAddress? gateway = null, uint? metric = null, uint table = RouteTable.Main, IPAddress? source = null) =>
        ModifyRoute(RouteChange.Replace, interfaceName, destination, gateway, metric, table, source);

    /// <summary>
    /// Deletes the route to <paramref name="destination"/> through the interface; a null gateway or
    /// metric matches any. Throws ESRCH when there is no such route.
    /// </summary>
    public void DeleteRoute(string interfaceName, IPNetwork destination, IPAddress? gateway = null, uint? metric = null, uint table = RouteTable.Main) =>
        ModifyRoute(RouteChange.Delete, interfaceName, destination, gateway, metric, table);

    /// <summary>
    /// The routes of <paramref name="table"/> (Unspecified: every table) that leave through the
    /// interface, including those the kernel made for its addresses. A table that does not exist yet is empty.
    /// </summary>
    public IReadOnlyList<RouteInfo> ListRoutes(string interfaceName, uint table = RouteTable.Main, AddressFamily family = AddressFamily.Unspecified)
    {
        InterfaceName.Validate(interfaceName, nameof(interfaceName));
        var wanted = FamilyFilter(family);
        var operation = $"list routes of {interfaceName} in table {TableName(table)}";
        var found = new List<RouteInfo>();
        lock (_gate)
        {
            var index = LinkIndex(interfaceName, operation);
            foreach (var f in (ReadOnlySpan<byte>)[IPPrefix.AF_INET, IPPrefix.AF_INET6])
            {
                if (wanted != AF_UNSPEC && wanted != f)
                {
                    continue;
                }

                var before = found.Count;
                var request = BeginDump(Rtnl.RTM_GETROUTE);
                ref var header = ref request.Header<RtMsg>();
                header.Family = f;

                // Filters the kernel applies under strict checking (Linux 4.20 on); the parser checks anyway.
                if (table != RouteTable.Unspecified)
                {
                    request.UInt32(Rtnl.RTA_TABLE, table);
                }

                request.UInt32(Rtnl.RTA_OIF, (uint)index);
                Dump(
                    ref request,
                    message =>
                    {
                        if (NetlinkParse.Route(message) is { } r && r.InterfaceIndex == index && (table == RouteTable.Unspecified || r.Table == table))
                        {
                            found.Add(r);
                        }
                    },
                    () => found.RemoveRange(before, found.Count - before),
                    operation,
                    meansEmpty: errno => errno == NetlinkErrno.ENOENT && table != RouteTable.Unspecified);
            }
        }

        return found;
    }

    private void ModifyRoute(RouteChange change, string interfaceName, IPNetwork destination, IPAddress? gateway, uint? metric, uint table, IPAddress? source = null)
    {
        InterfaceName.Validate(interfaceName, nameof(interfaceName));
        var family = IPPrefix.Family(destination.BaseAddress, nameof(destination));
        if (gateway is not null && gateway.AddressFamily != destination.BaseAddress.AddressFamily)
        {
            throw new ArgumentException($"gateway {gateway} is not of the family of {destination}", nameof(gateway));
        }

        if (table == RouteTable.Unspecified)
        {
            throw new ArgumentOutOfRangeException(nameof(table), table, "a route goes into a specific table");
        }

        var operation = RouteOperation(change, interfaceName, destination, gateway, metric, table);
        lock (_gate)
        {
            var index = LinkIndex(interfaceName, operation);
            var request = change switch
            {
                RouteChange.Add => Begin(Rtnl.RTM_NEWROUTE, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL),
                RouteChange.Replace => Begin(Rtnl.RTM_NEWROUTE, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_REPLACE),
                _ => Begin(Rtnl.RTM_DELROUTE, 0),
            };
            ref var header = ref request.Header<RtMsg>();
            header.Family = family;
            header.DestinationLength = (byte)destination.PrefixLength;
            header.Table = table <= byte.MaxValue ? (byte)table : (byte)0; // RTA_TABLE below carries the full id
            if (change == RouteChange.Delete)
            {
                header.Scope = Rtnl.RT_SCOPE_NOWHERE; // with type and protocol 0: match any
            }
            else
            {
                header.Protocol = Rtnl.RTPROT_STATIC;
                header.Type = Rtnl.RTN_UNICAST;

                // Like ip route: an IPv4 route without a gateway reaches hosts on the link itself.
                header.Scope = gateway is null && family == IPPrefix.AF_INET ? Rtnl.RT_SCOPE_LINK : Rtnl.RT_SCOPE_UNIVERSE;
            }

            request.Address(Rtnl.RTA_DST, destination.BaseAddress);
            request.UInt32(Rtnl.RTA_OIF, (uint)index);
            if (gateway is not null)
            {
                request.Address(Rtnl.RTA_GATEWAY, gateway);
            }

            if (metric is { } m)
            {
                request.UInt32(Rtnl.RTA_PRIORITY, m);
            }

            if (source is not null)
            {
                request.Address(Rtnl.RTA_PREFSRC, source);
            }

            request.UInt32(Rtnl.RTA_TABLE, table);
            Execute(ref request, operation, errno => errno switch
            {
                NetlinkErrno.EEXIST => "the table already has a route to this prefix (ReplaceRoute overwrites it)",
                NetlinkErrno.ESRCH => "no such route in the table",
                Errno.ENETUNREACH or Errno.EHOSTUNREACH => "the gateway is not on-link: no route through the interface covers it",
                NetlinkErrno.ENETDOWN => "the interface is down",
                _ => null,
            });
        }
    }

    /// <summary>The operation in <c>ip route</c>'s words, for error messages.</summary>
    private static string RouteOperation(RouteChange change, string interfaceName, IPNetwork destination, IPAddress? gateway, uint? metric, uint table)
    {
        var text = new StringBuilder();
        text.Append(change switch { RouteChange.Add => "add", RouteChange.Replace => "replace", _ => "delete" });
        text.Append(" route ").Append(destination);
        if (gateway is not null)
        {
            text.Append(" via ").Append(gateway);
        }

        text.Append(" dev ").Append(interfaceName);
        if (metric is { } m)
        {
            text.Append(" metric ").Append(m);
        }

        if (table != RouteTable.Main)
        {
            text.Append(" table ").Append(TableName(table));
        }

        return text.ToString();
    }

    private static string TableName(uint table) => table switch
    {
        RouteTable.Unspecified => "all",
        RouteTable.Main => "main",
        RouteTable.Local => "local",
        RouteTable.Default => "default",
        _ => table.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private enum RouteChange
    {
        Add,
        Replace,
        Delete,
    }
}
