using System.Globalization;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>
/// netns.sh's sticky sockets: A has a second address (a secondary IPv4, a second IPv6, or an
/// address on another interface) and B knows A only there. B speaks first; A's replies must leave
/// from that address, or B's endpoint for A roams to A's primary address, where a firewall, a NAT
/// or a changed address would lose it.
/// </summary>
public sealed class StickySourceTests(ITestOutputHelper output)
{
    public enum SecondAddress
    {
        SecondaryIPv4,
        SecondIPv6,
        OtherInterfaceIPv4,
    }

    private static readonly LabAddress SecondaryIPv4 = LabAddress.Parse("10.0.0.10/24");
    private static readonly LabAddress SecondIPv6 = LabAddress.Parse("fd10::10/64");
    private static readonly LabAddress OtherInterfaceIPv4 = LabAddress.Parse("10.0.1.10/32");

    public static TheoryData<Implementation, SecondAddress> Cases
    {
        get
        {
            var data = new TheoryData<Implementation, SecondAddress>();
            foreach (var b in (Implementation[])[Implementation.Trellis, Implementation.WireGuardGo])
            {
                foreach (var second in Enum.GetValues<SecondAddress>())
                {
                    data.Add(b, second);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Replies_leave_from_the_address_the_peer_used(Implementation b, SecondAddress second)
    {
        var underlay = second == SecondAddress.SecondIPv6 ? Underlay.IPv6 : Underlay.IPv4;
        await using var lab = await TunnelLab.StartAsync(Implementation.Trellis, b, output, underlay);
        var address = second switch
        {
            SecondAddress.SecondaryIPv4 => SecondaryIPv4,
            SecondAddress.SecondIPv6 => SecondIPv6,
            _ => OtherInterfaceIPv4,
        };
        if (second == SecondAddress.OtherInterfaceIPv4)
        {
            // On A's loopback interface (no dummy interfaces in every container), reached by B through A's veth.
            await lab.A.Namespace.IpAsync("addr", "add", address.ToString(), "dev", "lo");
            await lab.B.Namespace.IpAsync("route", "add", address.HostPrefix, "via", lab.A.Underlay.IPv4.Address.ToString());
        }
        else if (address.IsIPv6)
        {
            // Deprecated, so A's kernel never picks it as a source by itself: only a sticky source sends from it.
            await lab.A.Namespace.IpAsync("addr", "add", address.ToString(), "dev", lab.A.Underlay.InterfaceName, "nodad", "preferred_lft", "0");
        }
        else
        {
            // A secondary address: A's kernel picks the primary as the source by itself.
            await lab.A.Underlay.AddAddressAsync(address);
        }

        var expected = address.Endpoint(TunnelLab.ListenPortA);
        await lab.B.Device.SetPeerAsync(new WireGuardPeerConfig(lab.A.Keys.PublicKey) { Endpoint = expected });

        // B initiates; every packet A sends back (handshake response, keepalive, replies) must come from there.
        await lab.AssertPingsAsync(lab.B, ipv6: false);
        await lab.AssertPingsAsync(lab.B, ipv6: true);
        var seen = (await lab.B.Device.GetEndpointsAsync())[lab.A.Keys.PublicKey];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"B's endpoint for A: {seen} (A's primary {lab.A.Endpoint(underlay)})"));
        Assert.Equal(expected, seen);
    }
}
