using System.Net;
using System.Net.Sockets;

namespace Trellis.Net.Netlink;

public sealed partial class RtNetlink
{
    /// <summary>
    /// Adds <paramref name="address"/>/<paramref name="prefixLength"/> to the interface, with the
    /// prefix route the kernel adds for it. IPv6 addresses skip duplicate address detection
    /// (IFA_F_NODAD) so they are usable at once. Throws EEXIST when the interface already has it.
    /// </summary>
    public void AddAddress(string interfaceName, IPAddress address, int prefixLength) =>
        ModifyAddress(Rtnl.RTM_NEWADDR, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL, interfaceName, address, prefixLength);

    /// <summary>Removes the address; throws EADDRNOTAVAIL when the interface does not have it.</summary>
    public void DeleteAddress(string interfaceName, IPAddress address, int prefixLength) =>
        ModifyAddress(Rtnl.RTM_DELADDR, 0, interfaceName, address, prefixLength);

    /// <summary>The addresses of the interface, of one family or (Unspecified) both.</summary>
    public IReadOnlyList<AddressInfo> ListAddresses(string interfaceName, AddressFamily family = AddressFamily.Unspecified)
    {
        InterfaceName.Validate(interfaceName, nameof(interfaceName));
        var wanted = FamilyFilter(family);
        var operation = $"list addresses of {interfaceName}";
        var found = new List<AddressInfo>();
        lock (_gate)
        {
            var index = LinkIndex(interfaceName, operation);
            var request = BeginDump(Rtnl.RTM_GETADDR);
            ref var header = ref request.Header<IfAddrMsg>();
            header.Family = wanted;
            header.Index = index; // the kernel filters by it under strict checking; the parser checks anyway
            Dump(
                ref request,
                message =>
                {
                    if (NetlinkParse.Address(message) is { } a && a.InterfaceIndex == index && (wanted == AF_UNSPEC || IPPrefix.Family(a.Address, "address") == wanted))
                    {
                        found.Add(a);
                    }
                },
                found.Clear,
                operation);
        }

        return found;
    }

    private void ModifyAddress(ushort type, ushort flags, string interfaceName, IPAddress address, int prefixLength)
    {
        InterfaceName.Validate(interfaceName, nameof(interfaceName));
        ArgumentNullException.ThrowIfNull(address);
        var family = IPPrefix.Family(address, nameof(address));
        IPPrefix.ValidateLength(address, prefixLength, nameof(prefixLength));
        var adding = type == Rtnl.RTM_NEWADDR;
        var operation = adding
            ? $"add address {address}/{prefixLength} to {interfaceName}"
            : $"delete address {address}/{prefixLength} from {interfaceName}";
        lock (_gate)
        {
            var index = LinkIndex(interfaceName, operation);
            var request = Begin(type, flags);
            ref var header = ref request.Header<IfAddrMsg>();
            header.Family = family;
            header.PrefixLength = (byte)prefixLength;
            header.Index = index;
            if (adding && family == IPPrefix.AF_INET6)
            {
                header.Flags = Rtnl.IFA_F_NODAD;
            }

            request.Address(Rtnl.IFA_LOCAL, address);
            request.Address(Rtnl.IFA_ADDRESS, address); // no peer: the same address, as ip addr add sends it
            Execute(ref request, operation, errno => errno switch
            {
                NetlinkErrno.EEXIST => "the interface already has this address",
                Errno.EADDRNOTAVAIL => "the interface has no such address",
                _ => null,
            });
        }
    }

    private static byte FamilyFilter(AddressFamily family) => family switch
    {
        AddressFamily.Unspecified => AF_UNSPEC,
        AddressFamily.InterNetwork => IPPrefix.AF_INET,
        AddressFamily.InterNetworkV6 => IPPrefix.AF_INET6,
        _ => throw new ArgumentException($"only IPv4, IPv6 or Unspecified (both), not {family}", nameof(family)),
    };
}
