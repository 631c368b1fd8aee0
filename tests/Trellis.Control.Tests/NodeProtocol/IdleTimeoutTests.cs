using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.Extensions.Time.Testing;
using Trellis.Control.NodeProtocol;

namespace Trellis.Control.Tests.NodeProtocol;

public class IdleTimeoutTests
{
    private static readonly TimeSpan Timeout = NodeConnectionLimits.DefaultIdleTimeout;

    [Fact]
    public void The_watch_expires_only_after_a_whole_timeout_without_receiving_anything()
    {
        var clock = new FakeTimeProvider();
        var activity = new ReceiveActivity(clock);
        using var watch = new IdleWatch(activity, Timeout, clock);

        clock.Advance(Timeout - TimeSpan.FromSeconds(1));
        activity.Received(1);
        clock.Advance(Timeout - TimeSpan.FromSeconds(1));
        Assert.False(watch.Expired.IsCancellationRequested); // long since the start, not since the last byte

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(watch.Expired.IsCancellationRequested);
    }

    [Fact]
    public async Task WebSocket_pings_alone_count_as_activity()
    {
        var clock = new FakeTimeProvider();
        var activity = new ReceiveActivity(clock);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        var connect = client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = await listener.AcceptTcpClientAsync();
        await connect;

        // Before the first ping: a ping read between moving the clock and looking would hide the move.
        clock.Advance(Timeout - TimeSpan.FromSeconds(1));
        Assert.True(activity.Idle >= Timeout - TimeSpan.FromSeconds(1));

        // The node's side pings often (a real node: every 25 s); the server's only reads.
        using var node = WebSocket.CreateFromStream(client.GetStream(), new WebSocketCreationOptions
        {
            KeepAliveInterval = TimeSpan.FromMilliseconds(20),
            KeepAliveTimeout = TimeSpan.FromMinutes(5),
        });
        using var server = WebSocket.CreateFromStream(new ActivityStream(accepted.GetStream(), activity), new WebSocketCreationOptions
        {
            IsServer = true,
            KeepAliveInterval = System.Threading.Timeout.InfiniteTimeSpan,
        });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var reading = server.ReceiveAsync(Memory<byte>.Empty, stop.Token).AsTask();
        var nodeReading = node.ReceiveAsync(Memory<byte>.Empty, stop.Token).AsTask(); // as a node always is: it reads the pongs

        while (activity.Idle != TimeSpan.Zero)
        {
            // a ping frame read after the clock moved records the new time
            await Task.Delay(10, stop.Token);
        }

        Assert.False(reading.IsCompleted); // no message reached the application, yet the connection was heard
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        await Record.ExceptionAsync(() => nodeReading); // cancelled, or closed under it by the server's side
    }
}
