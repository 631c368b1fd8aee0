using System.Globalization;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Netcheck;

/// <summary>The lab routers' own promises, checked apart from Trellis: filtering, and cleanup.</summary>
public sealed class NatRouterTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(NatKind.Easy)]
    [InlineData(NatKind.Hard)]
    public async Task Unsolicited_inbound_UDP_is_dropped_on_the_routers_input_hook(NatKind kind)
    {
        await using var stun = await StunLab.StartAsync(output, "bash");
        var router = await stun.Lab.AddRouterAsync(kind);
        var before = await router.ReadUnsolicitedDropsAsync();

        var sent = await stun.ServerA.Namespace.ExecAsync("bash", "-c", $"echo stray > /dev/udp/{router.WanIPv4!.Address}/40000");

        Assert.True(sent.Succeeded, sent.ToString());
        await Poll.UntilAsync(async ct => await router.ReadUnsolicitedDropsAsync(ct) > before, TimeSpan.FromSeconds(10), "the router's drop counter");
    }

    [Fact]
    public async Task A_new_inbound_flow_does_not_cross_an_IPv6_firewall_but_an_outbound_one_does()
    {
        await using var stun = await StunLab.StartAsync(output);
        var router = await stun.Lab.AddRouterAsync(NatKind.IPv6Firewall);
        var inside = await router.AddHostAsync();
        await stun.StartTrellisStunAsync(inside);

        // From outside, the inside host's STUN server is unreachable; from inside, the outside one is.
        var outsideIn = await stun.NetcheckAsync(stun.ServerA, "--stun", inside.IPv6!.Endpoint(StunLab.StunPort));
        var insideOut = await stun.NetcheckAsync(inside, "--stun", stun.ServerA.IPv6!.Endpoint(StunLab.StunPort));

        Assert.False(outsideIn.UdpV6);
        Assert.True(insideOut.UdpV6);
    }

    [Fact]
    public async Task Routers_get_their_own_LANs_unless_told_otherwise_and_disposal_removes_every_namespace()
    {
        LabRequirements.EnsureAvailable(NatLab.RequiredTools);
        string[] names;
        await using (var lab = await NatLab.CreateAsync())
        {
            var first = await lab.AddRouterAsync(NatKind.Easy);
            var second = await lab.AddRouterAsync(NatKind.Hard, new NatRouterOptions { LanIPv4 = first.Lan.GatewayIPv4 });
            var third = await lab.AddRouterAsync(NatKind.Easy, new NatRouterOptions { IPv6 = true });
            var a = await first.AddHostAsync();
            var b = await second.AddHostAsync();
            var c = await third.AddHostAsync();

            Assert.Equal(a.IPv4, b.IPv4); // the same private address in two homes
            Assert.NotEqual(first.Lan.GatewayIPv4, third.Lan.GatewayIPv4);
            Assert.Null(a.IPv6);
            Assert.NotNull(c.IPv6);
            Assert.StartsWith("2001:db8:", c.IPv6.Address.ToString(), StringComparison.Ordinal);
            names = [.. lab.Hosts.Select(h => h.Namespace.Name), .. lab.Routers.Select(r => r.Namespace.Name), lab.Internet.Namespace.Name];
            Assert.Equal(7, names.Distinct().Count());
            Assert.All(names, n => Assert.StartsWith(NetNamespace.DefaultPrefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-", n, StringComparison.Ordinal));
        }

        var list = (await HostCommand.RunAsync("ip", "netns", "list")).StandardOutput;
        Assert.All(names, n => Assert.DoesNotContain(n, list, StringComparison.Ordinal));
    }
}
