using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Trellis.Net.PortMapping;

namespace Trellis.Net.Tests.PortMapping;

/// <summary>The client against fake gateways on loopback: protocol choice, retransmission, refusals and junk.</summary>
public sealed class PortMapperTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.2");

    [Fact]
    public async Task A_PCP_gateway_maps_the_port_with_PCP()
    {
        using var gateway = new FakeGateway(PcpAnswer(externalPort: 50000));
        var mapper = Mapper(gateway);

        var mapping = await mapper.MapUdpAsync(41641, PortMapper.DefaultLifetime);

        Assert.NotNull(mapping);
        Assert.Equal(PortMappingProtocol.Pcp, mapping.Protocol);
        Assert.Equal(new IPEndPoint(Public, 50000), mapping.External);
        Assert.Equal(41641, mapping.InternalPort);
        Assert.Equal(TimeSpan.FromSeconds(7200), mapping.Lifetime);
        Assert.Equal(TimeSpan.FromSeconds(3600), PortMapper.RenewalDue(mapping));
        var request = Assert.Single(gateway.Requests);
        Assert.Equal(IPAddress.Loopback.MapToIPv6(), new IPAddress(request.AsSpan(8, 16)));
        Assert.Equal(7200u, BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(4)));
    }

    [Fact]
    public async Task A_NAT_PMP_only_gateway_is_asked_again_with_NAT_PMP()
    {
        using var gateway = new FakeGateway(NatPmpOnlyAnswer(externalPort: 50001));
        var mapper = Mapper(gateway);

        var mapping = await mapper.MapUdpAsync(41641, TimeSpan.FromHours(1));

        Assert.NotNull(mapping);
        Assert.Equal(PortMappingProtocol.NatPmp, mapping.Protocol);
        Assert.Equal(new IPEndPoint(Public, 50001), mapping.External);
        Assert.Equal(TimeSpan.FromHours(1), mapping.Lifetime);
        Assert.Equal([2, 0, 0], gateway.Requests.Select(r => r[0]));
    }

    [Fact]
    public async Task A_lost_answer_is_retransmitted_at_doubling_intervals()
    {
        var seen = 0;
        var answer = PcpAnswer(externalPort: 50002);
        using var gateway = new FakeGateway(r => Interlocked.Increment(ref seen) < 3 ? [] : answer(r));
        var clock = new ManualClock();
        var mapper = new PortMapper(IPAddress.Loopback, clock, gateway.Port) { Timeout = TimeSpan.FromSeconds(5), InitialRetransmit = TimeSpan.FromMilliseconds(100) };

        // The clock moves only once the mapper waits, so no late answer can pass for a lost one.
        var mapping = mapper.MapUdpAsync(41641, PortMapper.DefaultLifetime);
        Assert.Equal(TimeSpan.FromMilliseconds(100), await clock.TimerArmedAsync());
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromMilliseconds(200), await clock.TimerArmedAsync());
        clock.Advance(TimeSpan.FromMilliseconds(200));

        Assert.Equal(50002, (await mapping)?.External.Port);
        Assert.Equal(3, gateway.Requests.Count);
    }

    [Fact]
    public async Task Junk_before_the_answer_is_ignored()
    {
        var answer = PcpAnswer(externalPort: 50003);
        var random = new Random(5351);
        using var gateway = new FakeGateway(r =>
        {
            var junk = Enumerable.Range(0, 20).Select(i =>
            {
                var datagram = new byte[random.Next(1, 100)];
                random.NextBytes(datagram);
                datagram[0] = (byte)(i % 3); // some look like NAT-PMP or PCP
                return datagram;
            }).Where(d => !PcpPacket.IsUnsupportedVersion(d));
            byte[] otherNonce = PcpPacketTests.Response(0, 60, 1, IPAddress.Loopback, new byte[12]);
            return [.. junk, otherNonce, .. answer(r)];
        });

        var mapping = await Mapper(gateway).MapUdpAsync(41641, PortMapper.DefaultLifetime);

        Assert.Equal(50003, mapping?.External.Port);
    }

    [Fact]
    public async Task A_refusal_is_null_with_the_reason()
    {
        using var gateway = new FakeGateway(r => [WithResult(PcpAnswer(1)(r).Single(), (byte)PcpResultCode.NotAuthorized)]);
        var mapper = Mapper(gateway);

        Assert.Null(await mapper.MapUdpAsync(41641, PortMapper.DefaultLifetime));
        Assert.Contains("NotAuthorized", mapper.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_closed_port_is_null_at_once()
    {
        // A timeout far longer than any machine's hiccup: finishing well before it means the refusal was heeded.
        var mapper = new PortMapper(IPAddress.Loopback, port: ClosedPort()) { Timeout = TimeSpan.FromSeconds(120), UseUpnp = false };
        var clock = Stopwatch.StartNew();

        Assert.Null(await mapper.MapUdpAsync(41641, PortMapper.DefaultLifetime));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        Assert.Contains("refused", mapper.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silent_gateway_is_null_after_both_protocols_time_out()
    {
        using var gateway = new FakeGateway(_ => []);
        var mapper = Mapper(gateway, retransmit: true);

        Assert.Null(await mapper.MapUdpAsync(41641, PortMapper.DefaultLifetime));

        Assert.Contains(gateway.Requests, r => r[0] == 2);
        Assert.Contains(gateway.Requests, r => r[0] == 0);
    }

    [Fact]
    public async Task Renewing_and_deleting_a_PCP_mapping_repeat_its_nonce()
    {
        using var gateway = new FakeGateway(PcpAnswer(externalPort: 50004));
        var mapper = Mapper(gateway);
        var mapping = await mapper.MapUdpAsync(41641, PortMapper.DefaultLifetime);
        Assert.NotNull(mapping);

        var renewed = await mapper.RenewAsync(mapping);
        var deleted = await mapper.DeleteAsync(mapping);

        Assert.Equal(mapping.External, renewed?.External);
        Assert.True(deleted);
        var requests = gateway.Requests.ToArray();
        Assert.Equal(3, requests.Length);
        Assert.All(requests, r => Assert.Equal(requests[0].AsSpan(24, 12).ToArray(), r.AsSpan(24, 12).ToArray()));
        Assert.Equal(50004, BinaryPrimitives.ReadUInt16BigEndian(requests[1].AsSpan(42)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(requests[2].AsSpan(4)));
    }

    [Fact]
    public async Task Deleting_a_NAT_PMP_mapping_sends_lifetime_zero()
    {
        using var gateway = new FakeGateway(NatPmpOnlyAnswer(externalPort: 50005));
        var mapper = Mapper(gateway);
        var mapping = await mapper.MapUdpAsync(41641, PortMapper.DefaultLifetime);
        Assert.NotNull(mapping);

        Assert.True(await mapper.DeleteAsync(mapping));

        Assert.Equal(NatPmpPacket.MapUdpRequest(41641, 0, 0), gateway.Requests.Last());
    }

    /// <summary>
    /// Retransmitting from 100 ms on only for the test about silence, which counts nothing: on a busy
    /// machine an answer can take longer than that, and a repeated request would change what the
    /// other tests count. Without it, one request waits up to 10 s (a safety net, never reached).
    /// </summary>
    private static PortMapper Mapper(FakeGateway gateway, bool retransmit = false) => retransmit
        ? new(IPAddress.Loopback, port: gateway.Port) { Timeout = TimeSpan.FromSeconds(5), InitialRetransmit = TimeSpan.FromMilliseconds(100) }
        : new(IPAddress.Loopback, port: gateway.Port) { Timeout = TimeSpan.FromSeconds(10), InitialRetransmit = TimeSpan.FromSeconds(10) };

    /// <summary>Answers a PCP MAP as miniupnpd does: the request's nonce, protocol and ports, the asked lifetime.</summary>
    private static Func<byte[], IEnumerable<byte[]>> PcpAnswer(ushort externalPort) => request =>
    {
        if (request.Length != PcpPacket.MapLength || request[0] != 2)
        {
            return [];
        }

        var lifetime = BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(4));
        var internalPort = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(40));
        return [PcpPacketTests.Response(0, lifetime, externalPort, Public, request.AsSpan(24, 12), internalPort)];
    };

    /// <summary>A NAT-PMP-only gateway: "unsupported version" for anything but version 0 (RFC 6886 §3.5).</summary>
    private static Func<byte[], IEnumerable<byte[]>> NatPmpOnlyAnswer(ushort externalPort) => request =>
    {
        if (request.Length < 2)
        {
            return [];
        }

        if (request[0] != 0)
        {
            return [[0, (byte)(0x80 | request[1]), 0, 1, 0, 0, 0, 5]];
        }

        if (request[1] == 0)
        {
            return [[0, 128, 0, 0, 0, 0, 0, 5, .. Public.GetAddressBytes()]];
        }

        var reply = new byte[16];
        reply[1] = 129;
        reply[7] = 5;
        request.AsSpan(4, 2).CopyTo(reply.AsSpan(8));
        var lifetime = BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(8));
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(10), lifetime == 0 ? (ushort)0 : externalPort);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(12), lifetime);
        return [reply];
    };

    private static byte[] WithResult(byte[] reply, byte result)
    {
        reply[3] = result;
        return reply;
    }

    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
