using System.Net;
using Trellis.Core.Transport;

namespace Trellis.Net.Tests;

public sealed unsafe class NativeTypesTests
{
    [Fact]
    public void Structures_match_the_64_bit_Linux_layouts()
    {
        Assert.Equal(16, sizeof(IoVec));
        Assert.Equal(56, sizeof(MsgHdr));
        Assert.Equal(64, sizeof(MMsgHdr));
        Assert.Equal(28, sizeof(SockAddrIn6));
        Assert.Equal(16, sizeof(SockAddrIn));
        Assert.Equal(8, sizeof(PollFd));
        Assert.Equal(40, sizeof(IfReq));
    }

    [Theory]
    [InlineData("192.0.2.7:51820", true)]
    [InlineData("[2001:db8::1]:443", false)]
    public void Endpoints_round_trip_through_a_dual_stack_sockaddr(string text, bool ipv4)
    {
        Assert.True(Endpoint.TryParse(text, out var endpoint));
        SockAddrIn6 address;
        Assert.True(SockAddr.TryWrite(endpoint, Libc.AF_INET6, &address, out var length));
        Assert.Equal(28u, length);
        Assert.Equal(Libc.AF_INET6, address.Family);

        var back = SockAddr.Read(&address, length);
        Assert.Equal(endpoint, back);
        Assert.Equal(ipv4, back.IsIPv4);
        Assert.Equal(text, back.ToString());
    }

    [Fact]
    public void An_IPv4_only_socket_takes_IPv4_and_refuses_IPv6()
    {
        var v4 = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("198.51.100.1"), 9));
        var v6 = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("2001:db8::2"), 9));
        SockAddrIn6 address;

        Assert.True(SockAddr.TryWrite(v4, Libc.AF_INET, &address, out var length));
        Assert.Equal(16u, length);
        Assert.Equal(v4, SockAddr.Read(&address, length));
        Assert.False(SockAddr.TryWrite(v6, Libc.AF_INET, &address, out _));
        Assert.False(SockAddr.TryWrite(default, Libc.AF_INET6, &address, out _));
    }
}
