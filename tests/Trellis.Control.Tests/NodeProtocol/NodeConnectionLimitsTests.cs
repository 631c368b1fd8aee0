using System.Buffers.Binary;
using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Trellis.Control.Server;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Crypto.Noise;

namespace Trellis.Control.Tests.NodeProtocol;

/// <summary>
/// What a stranger can make the real server spend: connections, idle time and message size, over
/// real WebSockets, with the connection timeouts on a fake clock that only the test moves.
/// </summary>
public sealed class NodeConnectionLimitsTests : IAsyncLifetime
{
    /// <summary>A safety net only: every wait here ends on an event long before it.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _network = new();
    private readonly List<ClientWebSocket> _sockets = [];
    private string _directory = null!;
    private ControlServerHost _host = null!;
    private Key _serverKey;

    public async Task InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("trellis-limits-").FullName;
        var options = new ServerOptions { Listen = "http://127.0.0.1:0", DataDirectory = _directory, StunPort = 0, MaxConnections = 100 };
        _host = await ControlServerHost.StartAsync(options, new FakeTimeProvider(DateTimeOffset.UtcNow), l => l.SetMinimumLevel(LogLevel.Warning), _network);
        _serverKey = await SimulatedNode.ServerKeyAsync(_host.Url);
    }

    public async Task DisposeAsync()
    {
        foreach (var socket in _sockets)
        {
            socket.Abort();
            socket.Dispose();
        }

        await _host.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<ClientWebSocket> OpenAsync(string? forwardedFor = null)
    {
        var socket = new ClientWebSocket();
        _sockets.Add(socket);
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // only what the test sends
        socket.Options.CollectHttpResponseDetails = true;
        if (forwardedFor is not null)
        {
            socket.Options.SetRequestHeader("X-Forwarded-For", forwardedFor);
        }

        using var timeout = new CancellationTokenSource(Patience);
        await socket.ConnectAsync(new UriBuilder(_host.Url) { Scheme = "ws", Path = ControlServerHost.ControlPath }.Uri, timeout.Token);
        return socket;
    }

    private async Task<(ClientWebSocket Socket, NoiseControlChannel Channel)> HandshakeAsync()
    {
        var socket = await OpenAsync();
        using var timeout = new CancellationTokenSource(Patience);
        return (socket, await NoiseControlChannel.ConnectAsync(socket, X25519.GeneratePrivateKey(), _serverKey, timeout.Token));
    }

    /// <summary>A request the server must answer: proves it was read and the connection is alive.</summary>
    private static async Task RoundTripAsync(NoiseControlChannel channel)
    {
        using var timeout = new CancellationTokenSource(Patience);
        await channel.SendAsync(new MapRequest(), timeout.Token);
        var reply = Assert.IsType<ErrorMessage>(await channel.ReceiveAsync(timeout.Token));
        Assert.Equal("not-registered", reply.Code);
    }

    /// <summary>True once the server has closed or dropped the connection.</summary>
    private static async Task<bool> EndsAsync(NoiseControlChannel channel)
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            return await channel.ReceiveAsync(timeout.Token) is null;
        }
        catch (WebSocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_32_MiB_node_message_closes_the_connection_at_its_length_prefix_before_the_body_is_sent()
    {
        var (socket, channel) = await HandshakeAsync();
        using var _ = channel;
        // Only the length prefix and the body's first bytes, in one WebSocket message: anything longer
        // crosses in several, and the server rightly closes before the later ones are written (a broken
        // pipe on the sending side, not what this test is about).
        var start = new byte[64];
        BinaryPrimitives.WriteInt32BigEndian(start, 32 * 1024 * 1024);
        "{\"type\":\"routes\",\"routes\":["u8.CopyTo(start.AsSpan(4));

        await channel.SendFramedAsync(start, CancellationToken.None);

        // The rest of the 32 MiB is never sent: the server must refuse on what it has.
        Assert.True(await EndsAsync(channel), "the server kept waiting for the body of a 32 MiB message");
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
        Assert.Equal(1, _host.Connections.OversizedMessages);
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_after_the_idle_timeout_and_one_that_talks_is_not()
    {
        var (_, channel) = await HandshakeAsync();
        using var _ = channel;
        await RoundTripAsync(channel);
        var idle = new ServerOptions().IdleTimeout;

        _network.Advance(idle - TimeSpan.FromSeconds(1));
        await RoundTripAsync(channel);
        _network.Advance(idle - TimeSpan.FromSeconds(1));
        await RoundTripAsync(channel); // long past the timeout since it connected, not since it last spoke
        Assert.Equal(0, _host.Connections.IdleClosed);

        _network.Advance(idle);

        Assert.True(await EndsAsync(channel), "an idle connection stayed open");
        // The node may see the drop before the server has finished counting it.
        await SimulatedNode.WaitAsync(() => _host.Connections.IdleClosed == 1, "the idle close to be counted");
    }

    [Fact]
    public async Task A_connection_that_never_finishes_its_handshake_is_closed_at_the_deadline()
    {
        var socket = await OpenAsync();
        var receive = socket.ReceiveAsync(new byte[16], CancellationToken.None);

        // The server arms its deadline once it has upgraded the request, which the client cannot see:
        // move the clock on until the deadline has passed since then, whenever that was.
        var deadline = DateTime.UtcNow + Patience;
        while (!receive.IsCompleted && DateTime.UtcNow < deadline)
        {
            _network.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(receive, Task.Delay(10));
        }

        Assert.True(receive.IsCompleted, "the handshake deadline did not close the connection");
        try
        {
            Assert.Equal(WebSocketMessageType.Close, (await receive).MessageType);
        }
        catch (WebSocketException)
        {
            // dropped rather than closed: ended all the same
        }

        await SimulatedNode.WaitAsync(() => _host.Connections.HandshakeTimeouts == 1, "the handshake timeout to be counted");
    }

    [Fact]
    public async Task The_65th_connection_from_one_IPv6_64_is_refused_while_another_64_still_connects()
    {
        for (var i = 1; i <= 64; i++)
        {
            await OpenAsync($"2001:db8:1:2::{i:x}"); // as a reverse proxy on the server's host reports them
        }

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => OpenAsync("2001:db8:1:2::ffff"));
        var other = await OpenAsync("2001:db8:1:3::1");

        Assert.Equal(HttpStatusCode.TooManyRequests, _sockets[^2].HttpStatusCode);
        Assert.Equal(WebSocketState.Open, other.State);
        Assert.Equal(1, _host.Connections.RefusedNetworkLimit);
        Assert.Equal(65, _host.Connections.Open);
        Assert.NotNull(refused);
    }
}
