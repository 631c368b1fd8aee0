using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.Extensions.Time.Testing;
using Trellis.Core.Control;
using Trellis.Crypto.Noise;

namespace Trellis.Crypto.Tests.Noise;

/// <summary>The server side of the control channel bounds what an unauthenticated node can make it wait for or hold.</summary>
public class ControlChannelAcceptLimitsTests
{
    private static async Task<(WebSocket Client, WebSocket Server)> PairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        var connect = client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var server = await listener.AcceptTcpClientAsync();
        await connect;
        return (WebSocket.CreateFromStream(client.GetStream(), false, null, TimeSpan.Zero),
                WebSocket.CreateFromStream(server.GetStream(), true, null, TimeSpan.Zero));
    }

    [Fact]
    public async Task A_node_that_never_sends_its_handshake_times_out_on_the_given_clock()
    {
        var (client, server) = await PairAsync();
        using var _ = client;
        var clock = new FakeTimeProvider();
        var options = new ControlChannelAcceptOptions { Time = clock, HandshakeTimeout = TimeSpan.FromSeconds(10) };
        var accept = NoiseControlChannel.AcceptAsync(server, X25519.GeneratePrivateKey(), options, CancellationToken.None);

        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.False(accept.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));

        var e = await Assert.ThrowsAsync<TimeoutException>(() => accept);
        Assert.Contains("within 10 s", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_first_message_far_larger_than_a_handshake_is_refused_unread()
    {
        var (client, server) = await PairAsync();
        using var _ = client;
        var accept = NoiseControlChannel.AcceptAsync(server, X25519.GeneratePrivateKey(), CancellationToken.None);

        await client.SendAsync(new byte[NoiseConstants.MaxMessageLength], WebSocketMessageType.Binary, true, CancellationToken.None);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => accept);
        Assert.Contains("exceeds 1024 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_server_refuses_a_node_message_over_its_cap_while_the_node_still_reads_large_maps()
    {
        var (clientSocket, serverSocket) = await PairAsync();
        var serverKey = X25519.GeneratePrivateKey();
        var accept = NoiseControlChannel.AcceptAsync(serverSocket, serverKey, CancellationToken.None);
        using var client = await NoiseControlChannel.ConnectAsync(clientSocket, X25519.GeneratePrivateKey(), X25519.PublicKey(serverKey), CancellationToken.None);
        using var server = await accept;

        // server -> node: a message over the node cap still arrives (the node's own cap is 32 MiB, for full maps)
        var large = new RouteAdvertisement { Routes = [.. Enumerable.Range(0, 100_000).Select(i => $"10.{i / 65536}.{i / 256 % 256}.{i % 256}/32")] };
        Assert.True(MessageFramer.Encode(large).Length > MessageFramer.MaxNodeMessage);
        await server.SendAsync(large, CancellationToken.None);
        Assert.Equal(100_000, Assert.IsType<RouteAdvertisement>(await client.ReceiveAsync(CancellationToken.None)).Routes.Count);

        // node -> server: a length prefix of 2 MiB ends the channel at once
        var header = new byte[64];
        BinaryPrimitives.WriteInt32BigEndian(header, 2 * 1024 * 1024);
        await client.SendFramedAsync(header, CancellationToken.None);
        var e = await Assert.ThrowsAsync<ControlMessageTooLargeException>(() => server.ReceiveAsync(CancellationToken.None));
        Assert.Equal(MessageFramer.MaxNodeMessage, e.Limit);
    }
}
