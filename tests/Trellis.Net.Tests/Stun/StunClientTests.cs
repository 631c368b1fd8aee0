using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Trellis.Core.Transport;
using Trellis.Net.Stun;

namespace Trellis.Net.Tests.Stun;

public sealed class StunClientTests
{
    private static readonly Endpoint Server = Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:3478"));
    private static readonly Endpoint Mapped = Endpoint.FromIPEndPoint(IPEndPoint.Parse("198.51.100.9:40000"));

    [Theory]
    [InlineData(AddressFamily.InterNetwork, "127.0.0.1")]
    [InlineData(AddressFamily.InterNetworkV6, "::1")]
    public async Task A_query_to_a_real_server_returns_this_sockets_address_and_a_round_trip(AddressFamily family, string loopback)
    {
        await using var server = new StunServer(new StunServerOptions { Port = 0 });
        await server.StartAsync();
        await using var client = StunClient.Open(family);

        // Loopback loses nothing, so one request is answered; an RTO far longer than any scheduling stall on
        // busy cores keeps a late answer from counting as a retransmission (CI once saw 2 with the 500 ms default).
        var patient = new StunQueryOptions { InitialRto = TimeSpan.FromSeconds(60), Timeout = TimeSpan.FromSeconds(120) };
        var result = await client.QueryAsync(Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(loopback), server.Port)), patient);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(IPAddress.Parse(loopback), result.MappedEndpoint!.Value.ToIPAddress());
        Assert.Equal(client.LocalEndPoint!.Port, result.MappedEndpoint.Value.Port);
        Assert.True(result.RoundTripTime > TimeSpan.Zero);
        Assert.Equal(1, result.Transmissions);
    }

    [Fact]
    public async Task Several_servers_asked_from_one_socket_see_the_same_port_without_NAT()
    {
        await using var a = new StunServer(new StunServerOptions { Port = 0 });
        await using var b = new StunServer(new StunServerOptions { Port = 0 });
        await a.StartAsync();
        await b.StartAsync();
        await using var client = StunClient.Open(AddressFamily.InterNetwork);

        var results = await client.QueryEachAsync([Loopback(a.Port), Loopback(b.Port)]);

        Assert.All(results, r => Assert.True(r.Succeeded, r.Error));
        Assert.Equal(Loopback(a.Port), results[0].Server);
        Assert.Equal(Loopback(b.Port), results[1].Server);
        Assert.Equal(results[0].MappedEndpoint, results[1].MappedEndpoint);
    }

    [Fact]
    public async Task Requests_are_retransmitted_at_doubling_intervals_with_the_same_transaction()
    {
        var clock = new ManualClock();
        var sent = Channel.CreateUnbounded<byte[]>();
        await using var client = new StunClient(Capture(sent), clock);

        var query = client.QueryAsync(Server);
        var first = await NextAsync(sent);
        Assert.Equal(TimeSpan.FromMilliseconds(500), await clock.TimerArmedAsync());
        clock.Advance(TimeSpan.FromMilliseconds(500));
        var second = await NextAsync(sent);
        Assert.Equal(TimeSpan.FromMilliseconds(1000), await clock.TimerArmedAsync());
        clock.Advance(TimeSpan.FromMilliseconds(1000));
        var third = await NextAsync(sent);
        Assert.Equal(first, second);
        Assert.Equal(first, third);

        clock.Advance(TimeSpan.FromMilliseconds(20));
        Assert.True(client.HandleDatagram(Answer(first, Mapped), Server));
        var result = await query;

        Assert.Equal(Mapped, result.MappedEndpoint);
        Assert.Equal(3, result.Transmissions);
        Assert.Equal(TimeSpan.FromMilliseconds(1520), result.RoundTripTime);
    }

    [Fact]
    public async Task A_query_gives_up_after_its_timeout_with_the_last_wait_cut_to_fit()
    {
        var clock = new ManualClock();
        var sent = Channel.CreateUnbounded<byte[]>();
        await using var client = new StunClient(Capture(sent), clock);

        var query = client.QueryAsync(Server, new StunQueryOptions { InitialRto = TimeSpan.FromMilliseconds(100), MaxTransmissions = 3, Timeout = TimeSpan.FromMilliseconds(1000) });
        await NextAsync(sent);
        clock.Advance(await clock.TimerArmedAsync()); // 100
        await NextAsync(sent);
        clock.Advance(await clock.TimerArmedAsync()); // 200
        await NextAsync(sent);
        Assert.Equal(TimeSpan.FromMilliseconds(700), await clock.TimerArmedAsync()); // the rest of the second, after the last
        clock.Advance(TimeSpan.FromMilliseconds(700));
        var result = await query;

        Assert.False(result.Succeeded);
        Assert.Equal(3, result.Transmissions);
        Assert.Contains("no answer", result.Error, StringComparison.Ordinal);
        Assert.False(sent.Reader.TryRead(out _));
    }

    [Fact]
    public async Task An_error_response_or_a_stranger_is_told_apart_from_an_answer()
    {
        var clock = new ManualClock();
        var sent = Channel.CreateUnbounded<byte[]>();
        await using var client = new StunClient(Capture(sent), clock);

        var query = client.QueryAsync(Server);
        var request = await NextAsync(sent);
        Assert.False(client.HandleDatagram(Answer(StunServerTests.Request(StunTransactionId.NewRandom()), Mapped), Server)); // another transaction
        Assert.False(client.HandleDatagram(request, Server)); // a request is not an answer
        Assert.False(client.HandleDatagram([1, 0, 0, 0], Server));

        var error = new byte[128];
        var length = StunPacket.WriteBindingError(error, StunMessage.TryParse(request, out var parsed) ? parsed.TransactionId : default, 420, "Unknown Attribute", [0x0003]);
        Assert.True(client.HandleDatagram(error.AsSpan(0, length), Server));
        var result = await query;

        Assert.False(result.Succeeded);
        Assert.Equal(420, result.ErrorCode);
        Assert.Contains("420", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_send_failure_ends_the_query_at_once()
    {
        await using var client = new StunClient((_, _, _) => throw new SocketException((int)SocketError.NetworkUnreachable), new ManualClock());
        var result = await client.QueryAsync(Server);
        Assert.False(result.Succeeded);
        Assert.Equal(1, result.Transmissions);
        Assert.Contains("cannot send", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_IPv4_socket_cannot_ask_an_IPv6_server()
    {
        await using var client = StunClient.Open(AddressFamily.InterNetwork);
        var result = await client.QueryAsync(Endpoint.FromIPEndPoint(IPEndPoint.Parse("[::1]:3478")));
        Assert.False(result.Succeeded);
        Assert.Contains("cannot send", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_query_throws_and_forgets_it()
    {
        var clock = new ManualClock();
        var sent = Channel.CreateUnbounded<byte[]>();
        await using var client = new StunClient(Capture(sent), clock);
        using var cancel = new CancellationTokenSource();

        var query = client.QueryAsync(Server, cancellationToken: cancel.Token);
        var request = await NextAsync(sent);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => query);
        Assert.False(client.HandleDatagram(Answer(request, Mapped), Server));
    }

    private static Endpoint Loopback(int port) => Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, port));

    private static StunSend Capture(Channel<byte[]> sent) => (datagram, _, _) =>
    {
        sent.Writer.TryWrite(datagram.ToArray());
        return ValueTask.CompletedTask;
    };

    private static async Task<byte[]> NextAsync(Channel<byte[]> sent) =>
        await sent.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    private static byte[] Answer(byte[] request, Endpoint mapped)
    {
        Assert.True(StunMessage.TryParse(request, out var parsed));
        var buffer = new byte[128];
        return buffer[..StunPacket.WriteBindingSuccess(buffer, parsed.TransactionId, mapped)];
    }
}
