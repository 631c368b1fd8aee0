using System.Net.Sockets;
using Trellis.Net.Netlink;

namespace Trellis.Net.Tests.Netlink;

public sealed class SysctlTests
{
    [Theory]
    [InlineData(AddressFamily.InterNetwork, "/proc/sys/net/ipv4/ip_forward")]
    [InlineData(AddressFamily.InterNetworkV6, "/proc/sys/net/ipv6/conf/all/forwarding")]
    public void Forwarding_is_switched_in_the_callers_namespace_only(AddressFamily family, string path)
    {
        var host = File.ReadAllText(path);
        using var ns = new IsolatedNamespace();

        // Everything runs on the namespace's thread: /proc/sys/net shows the caller's namespace.
        ns.Run(() => Sysctl.SetForwarding(family, true));

        Assert.True(ns.Run(() => Sysctl.IsForwardingEnabled(family)));
        Assert.Equal("1", ns.Exec("cat", path));

        ns.Run(() => Sysctl.SetForwarding(family, false));

        Assert.False(ns.Run(() => Sysctl.IsForwardingEnabled(family)));
        Assert.Equal("0", ns.Exec("cat", path));
        Assert.Equal(host, File.ReadAllText(path));
    }

    [Fact]
    public void Read_and_Write_take_sysctl_names_with_dots_or_slashes()
    {
        using var ns = new IsolatedNamespace();
        ns.CreateTun("tun.0", up: false);

        ns.Run(() => Sysctl.Write("net/ipv6/conf/tun.0/forwarding", "1"));

        Assert.Equal("1", ns.Run(() => Sysctl.Read("net/ipv6/conf/tun.0/forwarding")));
        Assert.Equal("1", ns.Exec("cat", "/proc/sys/net/ipv6/conf/tun.0/forwarding"));
        Assert.Equal(ns.Exec("cat", "/proc/sys/net/ipv4/ip_forward"), ns.Run(() => Sysctl.Read("net.ipv4.ip_forward")));
    }

    [Fact]
    public void Bad_names_are_refused_and_missing_ones_name_the_sysctl()
    {
        Assert.Throws<ArgumentException>(() => Sysctl.Read("net/../../etc/passwd"));
        Assert.Throws<ArgumentException>(() => Sysctl.Read("/etc/passwd"));
        Assert.Throws<ArgumentException>(() => Sysctl.Read(" "));

        var e = Assert.Throws<IOException>(() => Sysctl.Read("net.ipv4.no_such_knob"));
        Assert.Contains("net.ipv4.no_such_knob", e.Message, StringComparison.Ordinal);
    }
}
