using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Trellis.Core.Control;
using Trellis.Crypto.Noise;

namespace Trellis.Crypto.Tests.Noise;

public class NoiseControlChannelTests
{
    /// <summary>Two WebSockets joined over loopback TCP, as Kestrel and a client would be.</summary>
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
    public async Task Node_and_server_exchange_messages_and_the_server_learns_the_machine_key()
    {
        var (clientSocket, serverSocket) = await PairAsync();
        var serverKey = X25519.GeneratePrivateKey();
        var machineKey = X25519.GeneratePrivateKey();
        var accept = NoiseControlChannel.AcceptAsync(serverSocket, serverKey, CancellationToken.None);
        using var client = await NoiseControlChannel.ConnectAsync(clientSocket, machineKey, X25519.PublicKey(serverKey), CancellationToken.None);
        using var server = await accept;
        Assert.Equal(X25519.PublicKey(machineKey), server.RemoteStatic);

        await client.SendAsync(new RegisterRequest { NodeKey = "n", DiscoKey = "d", Hostname = "laptop" }, CancellationToken.None);
        var request = Assert.IsType<RegisterRequest>(await server.ReceiveAsync(CancellationToken.None));
        Assert.Equal("laptop", request.Hostname);

        var peers = Enumerable.Range(1, 3000).Select(i => new PeerInfo
        {
            Id = i, Name = $"n{i}", NodeKey = new string('k', 44), DiscoKey = new string('d', 44),
            Addresses = [$"100.64.{i / 256}.{i % 256}/32"], AllowedIps = [$"100.64.{i / 256}.{i % 256}/32"],
        }).ToList();
        await server.SendAsync(new FullMap { Self = peers[0], Peers = peers }, CancellationToken.None);
        await server.SendAsync(new KeepaliveMessage(), CancellationToken.None);
        var map = Assert.IsType<FullMap>(await client.ReceiveAsync(CancellationToken.None));
        Assert.Equal(3000, map.Peers.Count);
        Assert.IsType<KeepaliveMessage>(await client.ReceiveAsync(CancellationToken.None));

        await client.CloseAsync("bye", CancellationToken.None);
        Assert.Null(await server.ReceiveAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_large_message_leaves_in_websocket_messages_that_each_fit_one_4_KiB_block()
    {
        var (clientSocket, serverSocket) = await PairAsync();
        var serverKey = X25519.GeneratePrivateKey();
        var accept = NoiseControlChannel.AcceptAsync(serverSocket, serverKey, CancellationToken.None);
        using var client = await NoiseControlChannel.ConnectAsync(clientSocket, X25519.GeneratePrivateKey(), X25519.PublicKey(serverKey), CancellationToken.None);
        using var server = await accept;
        var peers = Enumerable.Range(1, 2000).Select(i => new PeerInfo { Id = i, Name = $"n{i}", NodeKey = new string('k', 44), DiscoKey = new string('d', 44), Addresses = [$"100.64.{i / 256}.{i % 256}/32"], AllowedIps = [$"100.64.{i / 256}.{i % 256}/32"] }).ToList();
        var map = new FullMap { Self = peers[0], Peers = peers };
        var framed = MessageFramer.Encode(map).Length;

        var send = server.SendAsync(map, CancellationToken.None);
        // Read the raw WebSocket messages (still sealed) until they carry the whole framed message.
        var buffer = new byte[NoiseConstants.MaxMessageLength];
        var sizes = new List<int>();
        for (var plaintext = 0; plaintext < framed;)
        {
            var result = await clientSocket.ReceiveAsync(buffer, CancellationToken.None);
            Assert.True(result.EndOfMessage);
            sizes.Add(result.Count);
            plaintext += result.Count - NoiseConstants.TagLen;
        }

        await send;
        // Sealed payload plus the largest header a frame of that size has (4 bytes, masked client frames 8).
        Assert.All(sizes, size => Assert.True(size + 8 <= 4096, $"a WebSocket message of {size} bytes"));
        Assert.True(sizes.Count >= framed / 4096, $"{sizes.Count} messages for {framed} bytes");
    }

    [Fact]
    public async Task A_node_with_the_wrong_server_key_gets_no_channel()
    {
        var (clientSocket, serverSocket) = await PairAsync();
        var serverKey = X25519.GeneratePrivateKey();
        var accept = NoiseControlChannel.AcceptAsync(serverSocket, serverKey, CancellationToken.None);
        var connect = NoiseControlChannel.ConnectAsync(clientSocket, X25519.GeneratePrivateKey(), X25519.PublicKey(X25519.GeneratePrivateKey()), CancellationToken.None);
        await Assert.ThrowsAsync<NoiseHandshakeException>(() => accept);
        serverSocket.Abort();
        await Assert.ThrowsAnyAsync<Exception>(() => connect);
    }

    [Fact]
    public async Task Garbage_instead_of_a_handshake_is_a_handshake_error_not_a_crash()
    {
        var (clientSocket, serverSocket) = await PairAsync();
        var accept = NoiseControlChannel.AcceptAsync(serverSocket, X25519.GeneratePrivateKey(), CancellationToken.None);
        await clientSocket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        await Assert.ThrowsAsync<NoiseHandshakeException>(() => accept);
    }

    [Fact]
    public async Task A_tampered_message_after_the_handshake_ends_the_channel_with_a_clear_error()
    {
        var (clientSocket, serverSocket) = await PairAsync();
        var serverKey = X25519.GeneratePrivateKey();
        var accept = NoiseControlChannel.AcceptAsync(serverSocket, serverKey, CancellationToken.None);
        using var client = await NoiseControlChannel.ConnectAsync(clientSocket, X25519.GeneratePrivateKey(), X25519.PublicKey(serverKey), CancellationToken.None);
        using var server = await accept;
        await clientSocket.SendAsync(new byte[40], WebSocketMessageType.Binary, true, CancellationToken.None);
        await Assert.ThrowsAsync<InvalidDataException>(() => server.ReceiveAsync(CancellationToken.None));
    }
}
