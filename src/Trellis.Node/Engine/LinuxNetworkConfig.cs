using System.Net;
using System.Net.Sockets;
using Trellis.Net;
using Trellis.Net.Netlink;

namespace Trellis.Node.Engine;

/// <summary>
/// <see cref="IOsNetworkConfig"/> on Linux: rtnetlink for links, addresses and routes, /proc/sys for
/// forwarding, nft(8) for masquerading (see <see cref="NftMasquerade"/> for why that one shells out).
/// </summary>
/// <remarks>
/// Network namespaces: the netlink socket belongs to the namespace of the thread that constructs this
/// object, but sysctl files and the nft process follow the thread that calls. A daemon lives in one
/// namespace and never notices; tests that use a private namespace construct and call from inside it.
/// </remarks>
public sealed class LinuxNetworkConfig : IOsNetworkConfig
{
    // errno values rtnetlink answers with (the Net room keeps its own table internal)
    private const int ENOENT = 2;
    private const int ESRCH = 3;
    private const int EEXIST = 17;
    private const int ENODEV = 19;
    private const int EADDRNOTAVAIL = 99;

    private const string SrcValidMark = "net.ipv4.conf.all.src_valid_mark";

    // RTN_LOCAL: a route type of the local table
    private const byte RtnLocal = 2;

    /// <summary>How long an apply waits for the kernel to make a new IPv6 address usable (an interface that is down never does).</summary>
    private static readonly TimeSpan LocalRouteWait = TimeSpan.FromSeconds(5);

    private readonly RtNetlink _netlink = new();

    public void ConfigureLink(string interfaceName, int mtu)
    {
        _netlink.SetMtu(interfaceName, mtu);
        _netlink.SetLinkUp(interfaceName);
    }

    public void AddAddress(string interfaceName, InterfaceAddress address)
    {
        try
        {
            _netlink.AddAddress(interfaceName, address.Address, address.PrefixLength);
        }
        catch (ErrnoException e) when (e.Errno == EEXIST)
        {
            // already there: what we wanted
        }

        if (address.Address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            AwaitLocalRoute(interfaceName, address.Address);
        }
    }

    /// <summary>
    /// Waits, at most <see cref="LocalRouteWait"/>, for the kernel to route the IPv6 address to this
    /// host. Even without duplicate address detection it installs that route from a work queue, after
    /// the address is listed: until then a packet to the address is dropped as not this host's
    /// (Ip6InAddrErrors), which on a busy machine lost the first datagrams after an apply. IPv4 needs
    /// no wait: its local route comes with the address.
    /// </summary>
    private void AwaitLocalRoute(string interfaceName, IPAddress address)
    {
        var host = new IPNetwork(address, 128);
        var deadline = Environment.TickCount64 + (long)LocalRouteWait.TotalMilliseconds;
        while (!_netlink.ListRoutes(interfaceName, RouteTable.Local, AddressFamily.InterNetworkV6).Any(r => r.Destination.Equals(host) && r.Type == RtnLocal)
            && Environment.TickCount64 < deadline)
        {
            // No event to wait on short of a netlink subscription; the route usually comes within a millisecond.
            Thread.Sleep(5);
        }
    }

    public void RemoveAddress(string interfaceName, InterfaceAddress address)
    {
        try
        {
            _netlink.DeleteAddress(interfaceName, address.Address, address.PrefixLength);
        }
        catch (ErrnoException e) when (e.Errno is EADDRNOTAVAIL or ENODEV)
        {
            // gone already, or the interface with it
        }
    }

    public void AddRoute(string interfaceName, IPNetwork destination)
    {
        try
        {
            _netlink.AddRoute(interfaceName, destination);
        }
        catch (ErrnoException e) when (e.Errno == EEXIST && HasRoute(interfaceName, destination))
        {
            // ours already; a route to the same prefix through another interface is not replaced (it
            // may be the LAN's own), so that case still throws
        }
    }

    public void RemoveRoute(string interfaceName, IPNetwork destination)
    {
        try
        {
            _netlink.DeleteRoute(interfaceName, destination);
        }
        catch (ErrnoException e) when (e.Errno is ESRCH or ENODEV)
        {
        }
    }

    public void AddTableRoute(string interfaceName, IPNetwork destination, uint table, IPAddress? source) =>
        _netlink.ReplaceRoute(interfaceName, destination, table: table, source: source);

    public void RemoveTableRoute(string interfaceName, IPNetwork destination, uint table)
    {
        try
        {
            _netlink.DeleteRoute(interfaceName, destination, table: table);
        }
        catch (ErrnoException e) when (e.Errno is ESRCH or ENODEV)
        {
        }
    }

    public void AddRule(RoutingRule rule)
    {
        try
        {
            _netlink.AddRule(rule);
        }
        catch (ErrnoException e) when (e.Errno == EEXIST)
        {
        }
    }

    public void RemoveRule(RoutingRule rule)
    {
        try
        {
            _netlink.DeleteRule(rule);
        }
        catch (ErrnoException e) when (e.Errno == ENOENT)
        {
        }
    }

    public void SetMarkRestore(string table, uint mark) => NftMasquerade.Run(NftMasquerade.MarkRestoreScript(table, mark));

    public void RemoveMarkRestore(string table) => NftMasquerade.Run(NftMasquerade.RemoveScript(table));

    public bool IsSrcValidMarkEnabled() => Sysctl.Read(SrcValidMark) != "0";

    public void SetSrcValidMark(bool enabled) => Sysctl.Write(SrcValidMark, enabled ? "1" : "0");

    public bool IsForwardingEnabled(AddressFamily family) => Sysctl.IsForwardingEnabled(family);

    public void SetForwarding(AddressFamily family, bool enabled) => Sysctl.SetForwarding(family, enabled);

    public void SetMasquerade(string table, IReadOnlyList<MasqueradeRule> rules) => NftMasquerade.Run(NftMasquerade.SetScript(table, rules));

    public void RemoveMasquerade(string table) => NftMasquerade.Run(NftMasquerade.RemoveScript(table));

    public void Dispose() => _netlink.Dispose();

    private bool HasRoute(string interfaceName, IPNetwork destination) =>
        _netlink.ListRoutes(interfaceName).Any(r => r.Destination.Equals(destination));
}
