using System.Net;

namespace Trellis.Net.Netlink;

/// <summary>Turns RTM_NEWLINK/NEWADDR/NEWROUTE replies into records; null for a message that is not one.</summary>
internal static class NetlinkParse
{
    private const uint RTM_F_CLONED = 0x200;

    public static LinkInfo? Link(NetlinkMessage message)
    {
        if (message.Type != Rtnl.RTM_NEWLINK || !message.TryReadHeader(out IfInfoMsg header))
        {
            return null;
        }

        string? name = null;
        string? kind = null;
        var mtu = 0;
        var attributes = message.Attributes<IfInfoMsg>();
        while (attributes.MoveNext())
        {
            switch (attributes.Type)
            {
                case Rtnl.IFLA_IFNAME:
                    name = attributes.String();
                    break;
                case Rtnl.IFLA_MTU:
                    mtu = (int)attributes.UInt32();
                    break;
                case Rtnl.IFLA_LINKINFO:
                    var info = attributes.Nested();
                    while (info.MoveNext())
                    {
                        if (info.Type == Rtnl.IFLA_INFO_KIND)
                        {
                            kind = info.String();
                        }
                    }

                    break;
            }
        }

        return name is null ? null : new LinkInfo(header.Index, name, mtu, header.Flags, kind);
    }

    public static AddressInfo? Address(NetlinkMessage message)
    {
        if (message.Type != Rtnl.RTM_NEWADDR || !message.TryReadHeader(out IfAddrMsg header))
        {
            return null;
        }

        IPAddress? local = null;
        IPAddress? address = null;
        uint flags = header.Flags;
        var attributes = message.Attributes<IfAddrMsg>();
        while (attributes.MoveNext())
        {
            switch (attributes.Type)
            {
                case Rtnl.IFA_LOCAL:
                    local = attributes.Address();
                    break;
                case Rtnl.IFA_ADDRESS:
                    address = attributes.Address();
                    break;
                case Rtnl.IFA_FLAGS:
                    flags = attributes.UInt32(); // the full 32 bits; ifa_flags holds only the low 8
                    break;
            }
        }

        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on a point-to-point
        // link and otherwise the same. IPv6 sends IFA_LOCAL only when there is a peer.
        var own = local ?? address;
        return own is null ? null : new AddressInfo(header.Index, own, header.PrefixLength, (AddressFlags)flags, header.Scope);
    }

    public static RouteInfo? Route(NetlinkMessage message)
    {
        if (message.Type != Rtnl.RTM_NEWROUTE
            || !message.TryReadHeader(out RtMsg header)
            || header.Family is not (IPPrefix.AF_INET or IPPrefix.AF_INET6)
            || (header.Flags & RTM_F_CLONED) != 0)
        {
            return null;
        }

        IPAddress? destination = null;
        IPAddress? gateway = null;
        var index = 0;
        uint metric = 0;
        uint table = header.Table;
        var attributes = message.Attributes<RtMsg>();
        while (attributes.MoveNext())
        {
            switch (attributes.Type)
            {
                case Rtnl.RTA_DST:
                    destination = attributes.Address();
                    break;
                case Rtnl.RTA_GATEWAY:
                    gateway = attributes.Address();
                    break;
                case Rtnl.RTA_OIF:
                    index = (int)attributes.UInt32();
                    break;
                case Rtnl.RTA_PRIORITY:
                    metric = attributes.UInt32();
                    break;
                case Rtnl.RTA_TABLE:
                    table = attributes.UInt32(); // rtm_table holds only 8 bits
                    break;
            }
        }

        destination ??= header.Family == IPPrefix.AF_INET ? IPAddress.Any : IPAddress.IPv6Any;
        return new RouteInfo(IPNetworks.Network(destination, header.DestinationLength), gateway, index, metric, table, header.Protocol, header.Scope, header.Type);
    }
}
