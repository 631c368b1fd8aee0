using System.Net;
using System.Net.Sockets;
using Trellis.Net.Netlink;

namespace Trellis.Net.Tests.Netlink;

public sealed class RtNetlinkAddressTests
{
    private const int EEXIST = 17;
    private const int ENODEV = 19;
    private const int EADDRNOTAVAIL = 99;

    [Fact]
    public void IPv4_addresses_are_added_listed_and_deleted()
    {
        using var ns = new IsolatedNamespace();
        ns.CreateTun("tnl0");
        var index = ns.Netlink.GetLinkIndex("tnl0");

        ns.Netlink.AddAddress("tnl0", IPAddress.Parse("10.1.0.1"), 24);
        ns.Netlink.AddAddress("tnl0", IPAddress.Parse("10.1.0.9"), 24);

        var listed = ns.Netlink.ListAddresses("tnl0", AddressFamily.InterNetwork); // IPv6 gave the link an fe80:: address
        Assert.Equal(["10.1.0.1/24", "10.1.0.9/24"], listed.Select(a => a.ToString()));
        Assert.All(listed, a => Assert.Equal(index, a.InterfaceIndex));
        Assert.Equal(AddressFlags.Secondary, listed[1].Flags & AddressFlags.Secondary); // a second address in the same subnet
        Assert.Equal(["10.1.0.1/24", "10.1.0.9/24"], ns.IpJson("-4", "addr", "show", "dev", "tnl0").Addresses());
        Assert.Single(ns.IpJson("route", "show", "dev", "tnl0").RoutesTo("10.1.0.0/24")); // the kernel's prefix route

        ns.Netlink.DeleteAddress("tnl0", IPAddress.Parse("10.1.0.9"), 24);

        Assert.Equal(["10.1.0.1/24"], ns.Netlink.ListAddresses("tnl0", AddressFamily.InterNetwork).Select(a => a.ToString()));
        Assert.Equal(["10.1.0.1/24"], ns.IpJson("-4", "addr", "show", "dev", "tnl0").Addresses());
    }

    [Fact]
    public void IPv6_addresses_skip_DAD_and_are_usable_at_once()
    {
        using var ns = new IsolatedNamespace();
        ns.CreateTun("tnl0");

        ns.Netlink.AddAddress("tnl0", IPAddress.Parse("fd00:1::1"), 64);

        var added = Assert.Single(ns.Netlink.ListAddresses("tnl0", AddressFamily.InterNetworkV6), a => a.Address.Equals(IPAddress.Parse("fd00:1::1")));
        Assert.Equal(64, added.PrefixLength);
        Assert.True(added.Flags.HasFlag(AddressFlags.NoDad));
        Assert.False(added.IsTentative);
        var shown = ns.IpJson("-6", "addr", "show", "dev", "tnl0").AddressEntry("fd00:1::1");
        Assert.Equal(64, shown.Number("prefixlen"));
        Assert.True(shown.Flag("nodad"));
        Assert.False(shown.Flag("tentative"));

        // Usable: a socket can bind to it right away, inside the namespace.
        ns.Run(() =>
        {
            using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Parse("fd00:1::1"), 0));
        });

        ns.Netlink.DeleteAddress("tnl0", IPAddress.Parse("fd00:1::1"), 64);

        Assert.DoesNotContain(ns.Netlink.ListAddresses("tnl0"), a => a.Address.Equals(IPAddress.Parse("fd00:1::1")));
        Assert.DoesNotContain("fd00:1::1/64", ns.IpJson("-6", "addr", "show", "dev", "tnl0").Addresses());
    }

    [Fact]
    public void ListAddresses_filters_by_family_and_interface()
    {
        using var ns = new IsolatedNamespace();
        ns.CreateTun("tnl0");
        ns.CreateTun("tnl1");
        ns.Netlink.AddAddress("tnl0", IPAddress.Parse("10.1.0.1"), 24);
        ns.Netlink.AddAddress("tnl0", IPAddress.Parse("fd00:1::1"), 64);
        ns.Netlink.AddAddress("tnl1", IPAddress.Parse("10.2.0.1"), 24);

        Assert.Equal(["10.1.0.1/24"], ns.Netlink.ListAddresses("tnl0", AddressFamily.InterNetwork).Select(a => a.ToString()));
        Assert.Contains("fd00:1::1/64", ns.Netlink.ListAddresses("tnl0", AddressFamily.InterNetworkV6).Select(a => a.ToString()));
        Assert.DoesNotContain(ns.Netlink.ListAddresses("tnl0", AddressFamily.InterNetworkV6), a => a.Address.AddressFamily != AddressFamily.InterNetworkV6);
        Assert.Equal(["10.2.0.1/24"], ns.Netlink.ListAddresses("tnl1").Where(a => a.Address.AddressFamily == AddressFamily.InterNetwork).Select(a => a.ToString()));
    }

    [Theory]
    [InlineData("10.1.0.1", 24)]
    [InlineData("fd00:1::1", 64)]
    public void Adding_an_address_twice_fails_with_EEXIST_naming_address_and_interface(string address, int prefixLength)
    {
        using var ns = new IsolatedNamespace();
        ns.CreateTun("tnl0");
        ns.Netlink.AddAddress("tnl0", IPAddress.Parse(address), prefixLength);

        var e = Assert.Throws<ErrnoException>(() => ns.Netlink.AddAddress("tnl0", IPAddress.Parse(address), prefixLength));

        Assert.Equal(EEXIST, e.Errno);
        Assert.StartsWith($"add address {address}/{prefixLength} to tnl0: File exists", e.Message, StringComparison.Ordinal);
        Assert.Contains("already has this address", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.1.0.7", 24)]
    [InlineData("fd00:1::7", 64)]
    public void Deleting_an_address_the_interface_lacks_fails_with_EADDRNOTAVAIL(string address, int prefixLength)
    {
        using var ns = new IsolatedNamespace();
        ns.CreateTun("tnl0");

        var e = Assert.Throws<ErrnoException>(() => ns.Netlink.DeleteAddress("tnl0", IPAddress.Parse(address), prefixLength));

        Assert.Equal(EADDRNOTAVAIL, e.Errno);
        Assert.StartsWith($"delete address {address}/{prefixLength} from tnl0:", e.Message, StringComparison.Ordinal);
        Assert.Contains("no such address", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Adding_to_a_missing_interface_fails_with_ENODEV_naming_it()
    {
        using var ns = new IsolatedNamespace();

        var e = Assert.Throws<ErrnoException>(() => ns.Netlink.AddAddress("nosuch0", IPAddress.Parse("10.1.0.1"), 24));

        Assert.Equal(ENODEV, e.Errno);
        Assert.Equal("add address 10.1.0.1/24 to nosuch0: No such device (errno 19); no interface of that name", e.Message);
    }

    [Fact]
    public void Invalid_prefix_lengths_are_refused_before_reaching_the_kernel()
    {
        using var ns = new IsolatedNamespace();
        ns.CreateTun("tnl0");

        Assert.Throws<ArgumentOutOfRangeException>(() => ns.Netlink.AddAddress("tnl0", IPAddress.Parse("10.1.0.1"), 33));
        Assert.Throws<ArgumentOutOfRangeException>(() => ns.Netlink.AddAddress("tnl0", IPAddress.Parse("fd00::1"), 129));
        Assert.Throws<ArgumentOutOfRangeException>(() => ns.Netlink.AddAddress("tnl0", IPAddress.Parse("10.1.0.1"), -1));
    }
}
