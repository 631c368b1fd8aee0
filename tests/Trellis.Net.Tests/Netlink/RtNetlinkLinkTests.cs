using Trellis.Net.Netlink;

namespace Trellis.Net.Tests.Netlink;

public sealed class RtNetlinkLinkTests
{
    private const int ENODEV = 19;
    private const int EEXIST = 17;

    [Fact]
    public void GetLink_reports_what_ip_link_shows()
    {
        using var ns = new IsolatedNamespace();
        ns.CreateTun("tnl0", up: false);

        var link = ns.Netlink.GetLink("tnl0");

        var shown = ns.IpJson("-d", "link", "show", "dev", "tnl0").EnumerateArray().Single();
        Assert.Equal(shown.Number("ifindex"), link.Index);
        Assert.Equal("tnl0", link.Name);
        Assert.Equal(LinuxTun.DefaultMtu, link.Mtu);
        Assert.Equal(shown.Number("mtu"), link.Mtu);
        Assert.Equal("tun", link.Kind);
        Assert.Equal("tun", shown.GetProperty("linkinfo").String("info_kind"));
        Assert.False(link.IsUp);
        Assert.Equal(link.Index, ns.Netlink.GetLinkIndex("tnl0"));
        Assert.Equal(1, ns.Netlink.GetLinkIndex("lo")); // the namespace's own loopback
    }

    [Fact]
    public void SetLinkUp_SetLinkDown_and_SetMtu_are_seen_by_ip()
    {
        using var ns = new IsolatedNamespace();
        ns.CreateTun("tnl0", up: false);

        ns.Netlink.SetLinkUp("tnl0");
        ns.Netlink.SetMtu("tnl0", 1280);

        var link = ns.Netlink.GetLink("tnl0");
        Assert.True(link.IsUp);
        Assert.True(link.HasCarrier); // the TUN's file is open
        Assert.Equal(1280, link.Mtu);
        var shown = ns.IpJson("link", "show", "dev", "tnl0").EnumerateArray().Single();
        Assert.Contains("UP", shown.Flags());
        Assert.Equal(1280, shown.Number("mtu"));

        ns.Netlink.SetLinkDown("tnl0");

        Assert.False(ns.Netlink.GetLink("tnl0").IsUp);
        Assert.DoesNotContain("UP", ns.IpJson("link", "show", "dev", "tnl0").EnumerateArray().Single().Flags());
    }

    [Fact]
    public void An_MTU_the_device_refuses_fails_with_the_kernel_reason()
    {
        using var ns = new IsolatedNamespace();
        ns.CreateTun("tnl0");

        var e = Assert.Throws<ErrnoException>(() => ns.Netlink.SetMtu("tnl0", 40));

        Assert.Equal(22, e.Errno); // EINVAL
        Assert.Contains("set MTU of tnl0 to 40", e.Message, StringComparison.Ordinal);
        Assert.Contains("kernel:", e.Message, StringComparison.Ordinal); // the extended ack's text
        Assert.Equal(LinuxTun.DefaultMtu, ns.Netlink.GetLink("tnl0").Mtu);
    }

    [Fact]
    public void AddLink_creates_a_link_of_a_kind_and_DeleteLink_removes_it_by_name()
    {
        using var ns = new IsolatedNamespace();

        ns.Netlink.AddLink("br-test", "bridge");

        Assert.Equal("bridge", ns.Netlink.GetLink("br-test").Kind);
        Assert.Equal("bridge", ns.IpJson("-d", "link", "show", "dev", "br-test").EnumerateArray().Single().GetProperty("linkinfo").String("info_kind"));
        var again = Assert.Throws<ErrnoException>(() => ns.Netlink.AddLink("br-test", "bridge"));
        Assert.Equal(EEXIST, again.Errno);
        Assert.Contains("create bridge link br-test", again.Message, StringComparison.Ordinal);

        ns.Netlink.DeleteLink("br-test");

        Assert.Null(ns.Netlink.FindLink("br-test"));
        Assert.DoesNotContain(ns.IpJson("link", "show").EnumerateArray(), l => l.String("ifname") == "br-test");
    }

    [Fact]
    public void AddLink_of_a_kind_the_kernel_lacks_fails_with_EOPNOTSUPP_naming_it()
    {
        using var ns = new IsolatedNamespace();

        var e = Assert.Throws<ErrnoException>(() => ns.Netlink.AddLink("x0", "no-such-kind"));

        Assert.Equal(95, e.Errno); // EOPNOTSUPP
        Assert.StartsWith("create no-such-kind link x0:", e.Message, StringComparison.Ordinal);
        Assert.Contains("no \"no-such-kind\" link type", e.Message, StringComparison.Ordinal);
        Assert.Null(ns.Netlink.FindLink("x0"));
    }

    [Fact]
    public void DeleteLink_removes_a_TUN_interface()
    {
        using var ns = new IsolatedNamespace();
        ns.CreateTun("tnl0");

        ns.Netlink.DeleteLink("tnl0");

        Assert.Null(ns.Netlink.FindLink("tnl0"));
        Assert.DoesNotContain(ns.IpJson("link", "show").EnumerateArray(), l => l.String("ifname") == "tnl0");
    }

    [Fact]
    public void Operations_on_a_missing_interface_fail_with_ENODEV_naming_it()
    {
        using var ns = new IsolatedNamespace();

        Assert.Null(ns.Netlink.FindLink("nosuch0"));
        foreach (var (call, operation) in new (Action, string)[]
        {
            (() => ns.Netlink.GetLink("nosuch0"), "look up interface nosuch0"),
            (() => ns.Netlink.SetLinkUp("nosuch0"), "set nosuch0 up"),
            (() => ns.Netlink.SetMtu("nosuch0", 1400), "set MTU of nosuch0 to 1400"),
            (() => ns.Netlink.DeleteLink("nosuch0"), "delete link nosuch0"),
        })
        {
            var e = Assert.Throws<ErrnoException>(call);
            Assert.Equal(ENODEV, e.Errno);
            Assert.StartsWith(operation + ": No such device", e.Message, StringComparison.Ordinal);
            Assert.Contains("no interface of that name", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Invalid_names_are_refused_before_reaching_the_kernel()
    {
        using var ns = new IsolatedNamespace();

        Assert.Throws<ArgumentException>(() => ns.Netlink.GetLink("a/b"));
        Assert.Throws<ArgumentException>(() => ns.Netlink.SetLinkUp("sixteen-chars-xx"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ns.Netlink.SetMtu("lo", 0));
    }

    [Fact]
    public void A_disposed_client_refuses_calls()
    {
        using var ns = new IsolatedNamespace();
        var netlink = ns.Run(() => new RtNetlink());
        netlink.Dispose();
        netlink.Dispose();

        Assert.Throws<ObjectDisposedException>(() => netlink.GetLink("lo"));
    }
}
