using System.Net;
using Trellis.Net.PortMapping;

namespace Trellis.Net.Tests.PortMapping;

/// <summary>RFC 6887 §7.1 (header) and §11.1 (MAP) byte layouts.</summary>
public sealed class PcpPacketTests
{
    private static readonly byte[] Nonce = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

    [Fact]
    public void A_MAP_request_has_the_RFC_layout()
    {
        var request = PcpPacket.MapRequest(IPAddress.Parse("192.168.1.2"), Nonce, PcpPacket.ProtocolUdp, 41641, 41641, null, 7200);

        byte[] expected =
        [
            2, 1, 0, 0, // version 2, request MAP, reserved
            0, 0, 0x1C, 0x20, // lifetime 7200
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 168, 1, 2, // client address, IPv4-mapped
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, // nonce
            17, 0, 0, 0, // UDP, reserved
            0xA2, 0xA9, 0xA2, 0xA9, // internal port, suggested external port
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, // no preferred external address: ::ffff:0.0.0.0
        ];
        Assert.Equal(expected, request);
        Assert.Equal(PcpPacket.MapLength, request.Length);
    }

    [Fact]
    public void A_MAP_response_is_parsed_with_its_IPv4_address_unmapped()
    {
        var reply = Response(result: 0, lifetime: 3600, externalPort: 50000, external: IPAddress.Parse("198.51.100.9"));

        Assert.True(PcpPacket.TryParseMapResponse(reply, out var response));

        Assert.Equal(PcpResultCode.Success, response.Result);
        Assert.Equal(3600u, response.LifetimeSeconds);
        Assert.Equal(77u, response.Epoch);
        Assert.Equal(Nonce, response.Nonce.ToArray());
        Assert.Equal(PcpPacket.ProtocolUdp, response.Protocol);
        Assert.Equal(41641, response.InternalPort);
        Assert.Equal(50000, response.ExternalPort);
        Assert.Equal(IPAddress.Parse("198.51.100.9"), response.ExternalAddress);
    }

    [Fact]
    public void Unsupported_version_is_recognised_in_PCP_and_in_NAT_PMP_form()
    {
        // miniupnpd's answer to an unknown version; a NAT-PMP-only gateway's answer to PCP (RFC 6887 §9).
        Assert.True(PcpPacket.IsUnsupportedVersion([2, 0x81, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4, .. new byte[12]]));
        Assert.True(PcpPacket.IsUnsupportedVersion([0, 0x81, 0, 1, 0, 0, 0, 4]));
        Assert.False(PcpPacket.IsUnsupportedVersion(Response(0, 60, 1, IPAddress.Loopback)));
        Assert.False(PcpPacket.IsUnsupportedVersion([2, 0x01, 0, 1])); // a request
    }

    [Theory]
    [InlineData(0)] // too short
    [InlineData(1)] // not a multiple of 4
    [InlineData(2)] // wrong version
    [InlineData(3)] // no response bit
    [InlineData(4)] // ANNOUNCE, not MAP
    public void Malformed_responses_are_rejected(int flaw)
    {
        var reply = Response(0, 60, 1, IPAddress.Loopback);
        reply = flaw switch
        {
            0 => reply[..56],
            1 => [.. reply, 0],
            2 => [1, .. reply[1..]],
            3 => [reply[0], 0x01, .. reply[2..]],
            _ => [reply[0], 0x80, .. reply[2..]],
        };

        Assert.False(PcpPacket.TryParseMapResponse(reply, out _));
    }

    [Fact]
    public void Random_datagrams_never_throw()
    {
        var random = new Random(6887);
        for (var i = 0; i < 20_000; i++)
        {
            var datagram = new byte[random.Next(0, 30) * 4];
            random.NextBytes(datagram);
            if (datagram.Length > 1)
            {
                datagram[0] = 2;
                datagram[1] = 0x81;
            }

            PcpPacket.TryParseMapResponse(datagram, out _);
            PcpPacket.IsUnsupportedVersion(datagram);
        }
    }

    internal static byte[] Response(byte result, uint lifetime, ushort externalPort, IPAddress external, ReadOnlySpan<byte> nonce = default, ushort internalPort = 41641)
    {
        var reply = new byte[PcpPacket.MapLength];
        reply[0] = 2;
        reply[1] = 0x81;
        reply[3] = result;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(4), lifetime);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(8), 77);
        (nonce.IsEmpty ? Nonce : nonce).CopyTo(reply.AsSpan(24));
        reply[36] = 17;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(40), internalPort);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(42), externalPort);
        external.MapToIPv6().TryWriteBytes(reply.AsSpan(44), out _);
        return reply;
    }
}
