using System.Net;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

public class OverlayAddressesTests
{
    private static readonly IPNetwork Range = OverlayAddresses.DefaultIPv4Range;

    [Fact]
    public void The_first_address_is_one_past_the_network()
    {
        Assert.Equal(IPAddress.Parse("100.64.0.1"), OverlayAddresses.LowestFreeIPv4(Range, []));
    }

    [Fact]
    public void Addresses_ending_in_0_or_255_are_skipped()
    {
        var used = Enumerable.Range(1, 254).Select(i => IPAddress.Parse($"100.64.0.{i}"));

        Assert.Equal(IPAddress.Parse("100.64.1.1"), OverlayAddresses.LowestFreeIPv4(Range, used));
    }

    [Fact]
    public void Gaps_are_filled_lowest_first()
    {
        var used = new[] { "100.64.0.1", "100.64.0.3" }.Select(IPAddress.Parse);

        Assert.Equal(IPAddress.Parse("100.64.0.2"), OverlayAddresses.LowestFreeIPv4(Range, used));
    }

    [Fact]
    public void The_service_range_is_never_handed_out()
    {
        var range = IPNetwork.Parse("100.100.100.0/23");

        Assert.Equal(IPAddress.Parse("100.100.101.1"), OverlayAddresses.LowestFreeIPv4(range, []));
    }

    [Fact]
    public void A_full_range_gives_nothing()
    {
        var range = IPNetwork.Parse("100.64.0.0/30");
        var used = new[] { "100.64.0.1", "100.64.0.2" }.Select(IPAddress.Parse);

        Assert.Null(OverlayAddresses.LowestFreeIPv4(range, used));
    }

    [Fact]
    public void Ula_prefixes_are_random_fd_48s()
    {
        var a = OverlayAddresses.GenerateUlaPrefix();
        var b = OverlayAddresses.GenerateUlaPrefix();

        Assert.True(OverlayAddresses.IsUlaPrefix(a));
        Assert.NotEqual(a, b);
        Assert.Equal(0, a.BaseAddress.GetAddressBytes()[6..].Sum(x => x));
    }

    [Fact]
    public void The_ipv6_address_embeds_the_ipv4_address()
    {
        var ula = IPNetwork.Parse("fd12:3456:789a::/48");

        Assert.Equal(IPAddress.Parse("fd12:3456:789a::6440:1"), OverlayAddresses.IPv6For(ula, IPAddress.Parse("100.64.0.1")));
    }
}
