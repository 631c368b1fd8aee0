using System.Net;
using Trellis.Net.PortMapping;

namespace Trellis.Net.Tests.PortMapping;

/// <summary>RFC 6886 §3 byte layouts.</summary>
public sealed class NatPmpPacketTests
{
    [Fact]
    public void The_external_address_request_is_version_0_opcode_0()
    {
        Assert.Equal(new byte[] { 0, 0 }, NatPmpPacket.ExternalAddressRequest());
    }

    [Fact]
    public void A_map_UDP_request_carries_ports_and_lifetime_big_endian()
    {
        var request = NatPmpPacket.MapUdpRequest(internalPort: 0x1234, suggestedExternalPort: 0xABCD, lifetimeSeconds: 7200);

        Assert.Equal(
            new byte[] { 0, 1, 0, 0, 0x12, 0x34, 0xAB, 0xCD, 0x00, 0x00, 0x1C, 0x20 },
            request);
    }

    [Fact]
    public void An_external_address_response_is_parsed()
    {
        byte[] reply = [0, 128, 0, 0, 0, 0, 0x01, 0x00, 198, 51, 100, 7];

        Assert.True(NatPmpPacket.TryParseExternalAddressResponse(reply, out var response));

        Assert.Equal(NatPmpResultCode.Success, response.Result);
        Assert.Equal(256u, response.Epoch);
        Assert.Equal(IPAddress.Parse("198.51.100.7"), response.ExternalAddress);
    }

    [Fact]
    public void A_map_response_is_parsed()
    {
        byte[] reply = [0, 129, 0, 0, 0, 0, 0, 9, 0x9C, 0x40, 0xD4, 0x31, 0, 0, 0x0E, 0x10];

        Assert.True(NatPmpPacket.TryParseMapResponse(reply, out var response));

        Assert.Equal(new NatPmpMapResponse(NatPmpResultCode.Success, 9, 40000, 54321, 3600), response);
    }

    [Fact]
    public void A_short_error_reply_is_an_error_not_garbage()
    {
        byte[] reply = [0, 129, 0, 2, 0, 0, 0, 9];

        Assert.True(NatPmpPacket.TryParseMapResponse(reply, out var response));

        Assert.Equal(NatPmpResultCode.NotAuthorized, response.Result);
    }

    [Theory]
    [InlineData(new byte[] { 0, 129, 0, 0, 0, 0, 0, 9 })] // success cut short
    [InlineData(new byte[] { 1, 129, 0, 0, 0, 0, 0, 9, 0, 1, 0, 1, 0, 0, 0, 1 })] // version 1
    [InlineData(new byte[] { 0, 1, 0, 0, 0, 0, 0, 9, 0, 1, 0, 1, 0, 0, 0, 1 })] // a request, not a reply
    [InlineData(new byte[] { 0, 130, 0, 0, 0, 0, 0, 9, 0, 1, 0, 1, 0, 0, 0, 1 })] // TCP mapping reply
    [InlineData(new byte[0])]
    public void Malformed_map_replies_are_rejected(byte[] reply)
    {
        Assert.False(NatPmpPacket.TryParseMapResponse(reply, out _));
    }

    [Fact]
    public void Random_datagrams_never_throw()
    {
        var random = new Random(6886);
        for (var i = 0; i < 20_000; i++)
        {
            var datagram = new byte[random.Next(0, 40)];
            random.NextBytes(datagram);
            if (datagram.Length > 1 && random.Next(2) == 0)
            {
                datagram[0] = 0;
                datagram[1] = (byte)(128 + random.Next(2));
            }

            NatPmpPacket.TryParseMapResponse(datagram, out _);
            NatPmpPacket.TryParseExternalAddressResponse(datagram, out _);
            PcpPacket.IsUnsupportedVersion(datagram);
        }
    }
}
