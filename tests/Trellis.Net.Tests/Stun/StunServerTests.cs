using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;
using Trellis.Net.Stun;

namespace Trellis.Net.Tests.Stun;

public sealed class StunServerTests : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly StunServer _server = new(new StunServerOptions { Port = 0 });

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task A_binding_request_is_answered_with_the_source_address_on_one_dual_stack_socket(string loopback)
    {
        await _server.StartAsync();
        Assert.NotEqual(0, _server.Port);
        using var client = Client(loopback);
        var id = StunTransactionId.NewRandom();

        var reply = await ExchangeAsync(client, Request(id), loopback);

        Assert.True(StunMessage.TryParse(reply, out var message));
        Assert.Equal(StunMessageType.BindingSuccess, message.Type);
        Assert.Equal(id, message.TransactionId);
        Assert.Equal(Endpoint.FromIPEndPoint((IPEndPoint)client.LocalEndPoint!), message.XorMappedAddress);
        Assert.Equal(loopback == "127.0.0.1", message.XorMappedAddress!.Value.IsIPv4);
        Assert.Equal("trellis", message.Software);
        Assert.True(message.HasFingerprint);
        Assert.Equal(1, _server.Requests);
        Assert.Equal(1, _server.Answers);
    }

    [Fact]
    public async Task A_request_with_an_unknown_comprehension_required_attribute_gets_420()
    {
        await _server.StartAsync();
        using var client = Client("127.0.0.1");

        var reply = await ExchangeAsync(client, Rfc5769Samples.Request, "127.0.0.1");

        Assert.True(StunMessage.TryParse(reply, out var message));
        Assert.Equal(StunMessageType.BindingError, message.Type);
        Assert.Equal(StunTransactionId.FromBytes(Rfc5769Samples.TransactionId), message.TransactionId);
        Assert.Equal(420, message.ErrorCode);
        Assert.Equal([(ushort)0x0024], message.ListedUnknownAttributes);
    }

    [Fact]
    public async Task Non_STUN_malformed_STUN_and_responses_are_counted_and_not_answered()
    {
        await _server.StartAsync();
        using var client = Client("127.0.0.1");
        var server = new IPEndPoint(IPAddress.Loopback, _server.Port);
        var truncated = Request(StunTransactionId.NewRandom())[..^4];

        await client.SendToAsync(new byte[] { 1, 0, 0, 0, 9, 9, 9, 9 }, server); // WireGuard-like
        await client.SendToAsync(truncated, server);
        await client.SendToAsync(Rfc5769Samples.IPv4Response, server);
        var id = StunTransactionId.NewRandom();
        var reply = await ExchangeAsync(client, Request(id), "127.0.0.1");

        // One receive loop handles datagrams in order, so the first answer is to the last request.
        Assert.True(StunMessage.TryParse(reply, out var message));
        Assert.Equal(id, message.TransactionId);
        Assert.Equal(2, _server.Ignored);
        Assert.Equal(1, _server.Malformed);
        Assert.Equal(1, _server.Requests);
        Assert.Equal(1, _server.Answers);
    }

    [Fact]
    public async Task Stopping_closes_the_port_and_a_second_start_is_refused()
    {
        await _server.StartAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => _server.StartAsync());
        var port = _server.Port;
        await _server.StopAsync();

        using var rebind = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
        rebind.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
        await _server.StopAsync(); // again: nothing to do
    }

    [Fact]
    public async Task A_server_bound_to_one_address_answers_there()
    {
        await using var server = new StunServer(new StunServerOptions { Port = 0, Address = IPAddress.Loopback, Software = null });
        await server.StartAsync();
        Assert.Equal(IPAddress.Loopback, server.LocalEndPoint!.Address);
        using var client = Client("127.0.0.1");
        var id = StunTransactionId.NewRandom();
        var reply = await ExchangeAsync(client, Request(id), "127.0.0.1", server.Port);

        Assert.True(StunMessage.TryParse(reply, out var message));
        Assert.Null(message.Software);
        Assert.Equal(id, message.TransactionId);
    }

    internal static byte[] Request(StunTransactionId id)
    {
        var buffer = new byte[StunPacket.BindingRequestLength];
        StunPacket.WriteBindingRequest(buffer, id);
        return buffer;
    }

    private static Socket Client(string loopback)
    {
        var address = IPAddress.Parse(loopback);
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, 0));
        return socket;
    }

    private async Task<byte[]> ExchangeAsync(Socket client, byte[] request, string loopback, int? port = null)
    {
        var server = new IPEndPoint(IPAddress.Parse(loopback), port ?? _server.Port);
        await client.SendToAsync(request, server);
        var buffer = new byte[2048];
        var received = await client.ReceiveFromAsync(buffer, new IPEndPoint(server.Address, 0)).WaitAsync(Timeout);
        Assert.Equal(server, received.RemoteEndPoint);
        return buffer[..received.ReceivedBytes];
    }
}
