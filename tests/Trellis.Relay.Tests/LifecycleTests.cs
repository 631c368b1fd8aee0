using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Trellis.Crypto;
using Trellis.Relay.Client;
using Trellis.Relay.Protocol;
using Trellis.Relay.Server;

namespace Trellis.Relay.Tests;

public class LifecycleTests
{
    [Fact]
    public async Task Clients_survive_a_relay_restart_on_the_same_port_and_key()
    {
        var options = TestRelay.Options();
        var relay = await TestRelay.StartAsync(options);
        var port = relay.Url.Port;
        await using var a = TestRelay.Client(relay, configure: o => o with { ServerKey = relay.Server.PublicKey });
        await using var b = TestRelay.Client(relay);
        var connections = 0;
        a.StateChanged += s => Interlocked.Add(ref connections, s == RelayConnectionState.Connected ? 1 : 0);
        b.StateChanged += s => Interlocked.Add(ref connections, s == RelayConnectionState.Connected ? 1 : 0);
        a.Start();
        b.Start();
        await Eventually.TrueAsync(() => a.IsConnected && b.IsConnected, "both clients to connect");
        await PacketExchange.BothWaysAsync(a, b, 100, seed: 1);

        var aDown = Eventually.EventAsync<RelayConnectionState>(h => a.StateChanged += h, s => s == RelayConnectionState.Disconnected);
        await relay.DisposeAsync();
        await aDown.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("the relay is restarting", a.LastError);

        await using var again = await TestRelay.StartAsync(options, port);
        await Eventually.TrueAsync(() => Volatile.Read(ref connections) == 4 && a.IsConnected && b.IsConnected, "both clients to reconnect");
        await PacketExchange.BothWaysAsync(a, b, 100, seed: 2);
    }

    [Fact]
    public async Task Clients_back_off_while_the_relay_is_down_and_return_when_it_is_up()
    {
        var options = TestRelay.Options();
        int port;
        await using (var probe = await TestRelay.StartAsync(options))
        {
            port = probe.Url.Port;
        }

        var url = new Uri($"http://127.0.0.1:{port}{RelayProtocol.DefaultPath}");
        await using var a = TestRelay.Client(url);
        var failures = 0;
        a.StateChanged += s => Interlocked.Add(ref failures, s == RelayConnectionState.Disconnected ? 1 : 0);
        a.Start();
        await Eventually.TrueAsync(() => Volatile.Read(ref failures) >= 3, "a few failed attempts");
        Assert.Contains("could not connect", a.LastError, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", a.LastError, StringComparison.Ordinal); // the address tried, and why

        await using var relay = await TestRelay.StartAsync(options, port);
        await Eventually.TrueAsync(() => a.IsConnected, "the client to connect");
    }

    [Fact]
    public async Task Shutdown_sends_restarting_with_the_configured_delays()
    {
        var relay = await TestRelay.StartAsync(TestRelay.Options() with { RestartReconnectIn = TimeSpan.FromMilliseconds(1234), RestartTryFor = TimeSpan.FromSeconds(42) });
        await using var raw = await RawRelayConnection.HandshakeAsync(relay.RelayUrl);
        var stopping = relay.DisposeAsync().AsTask();
        var (type, payload) = await raw.ReadFrameAsync();
        Assert.Equal(FrameType.Restarting, type);
        Assert.True(FrameCodec.TryParseRestarting(payload, out var reconnectIn, out var tryFor));
        Assert.Equal(TimeSpan.FromMilliseconds(1234), reconnectIn);
        Assert.Equal(TimeSpan.FromSeconds(42), tryFor);
        await raw.DisposeAsync();
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Idle_clients_get_a_keepalive_each_interval()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var relay = await TestRelay.StartAsync(TestRelay.Options(), time: clock);
        await using var raw = await RawRelayConnection.HandshakeAsync(relay.RelayUrl);

        clock.Advance(TimeSpan.FromSeconds(30));
        clock.Advance(TimeSpan.FromSeconds(31));
        var (type, payload) = await raw.ReadFrameAsync();
        Assert.Equal(FrameType.KeepAlive, type);
        Assert.Empty(payload);
    }

    [Fact]
    public async Task Health_reaches_connected_and_new_clients()
    {
        await using var relay = await TestRelay.StartAsync();
        await using var a = await TestRelay.ConnectedClientAsync(relay);
        var heard = Eventually.EventAsync<string>(h => a.HealthChanged += h, _ => true);
        relay.Server.SetHealth("mesh peer relay2 unreachable");
        Assert.Equal("mesh peer relay2 unreachable", await heard.WaitAsync(TimeSpan.FromSeconds(10)));

        await using var b = TestRelay.Client(relay);
        var bHeard = Eventually.EventAsync<string>(h => b.HealthChanged += h, _ => true);
        await b.ConnectAsync();
        Assert.Equal("mesh peer relay2 unreachable", await bHeard.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Auto_falls_back_to_the_WebSocket_when_something_on_the_way_refuses_the_upgrade()
    {
        // A host embedding the relay behind a "proxy" that lets only WebSockets through.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (string.Equals(context.Request.Headers.Upgrade, RelayProtocol.UpgradeToken, StringComparison.OrdinalIgnoreCase))
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            await next(context);
        });
        await using var server = new RelayServer(TestRelay.Options());
        app.MapRelay("/relay", server);
        await app.StartAsync();
        var url = new Uri(new Uri(app.Urls.First()), "/relay");

        await using var a = TestRelay.Client(url);
        await using var b = TestRelay.Client(url, configure: o => o with { Transport = RelayTransport.Upgrade });
        await a.ConnectAsync();
        Assert.True(a.UsesWebSocket);
        var e = await Assert.ThrowsAsync<RelayConnectException>(() => b.ConnectAsync());
        Assert.Equal(400, e.HttpStatus);

        await using var c = TestRelay.Client(url, X25519.GeneratePrivateKey(), o => o with { Transport = RelayTransport.WebSocket });
        await c.ConnectAsync();
        await PacketExchange.BothWaysAsync(a, c, 100);
        await app.StopAsync();
    }
}
