using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Crypto;
using Trellis.Relay.Client;

namespace Trellis.Relay.Tests;

/// <summary>
/// A relay that keeps the connection but stops forwarding is dropped once packets go unanswered
/// (a Ping, then its deadline), and a relay that forwards is never dropped for it. The client runs on
/// a fake clock moved by exactly the timers it arms; the relay and the network are real.
/// </summary>
public sealed class LivenessTests
{
    private static readonly byte[] Packet = [1, 2, 3, 4];

    private static async Task<RelayClient> ConnectAsync(Uri url, TimeProvider time)
    {
        var client = new RelayClient(
            new RelayClientOptions
            {
                Url = url,
                PrivateKey = X25519.GeneratePrivateKey(),
                ReconnectBaseDelay = TimeSpan.FromMilliseconds(50),
                ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
            },
            time);
        await client.ConnectAsync();
        return client;
    }

    private static async Task<Key> ReceiveAsync(RelayClient client)
    {
        using var packet = await client.Packets.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return packet.Source;
    }

    [Fact]
    public async Task A_relay_that_stays_connected_but_stops_forwarding_is_dropped_after_an_unanswered_ping()
    {
        await using var relay = await TestRelay.StartAsync();
        await using var proxy = new StallingProxy(relay.RelayUrl);
        var clock = new SignallingClock();
        await using var a = await ConnectAsync(proxy.Url, clock);
        await using var b = await TestRelay.ConnectedClientAsync(relay);
        var dropped = Eventually.EventAsync<RelayConnectionState>(h => a.StateChanged += h, s => s != RelayConnectionState.Connected);

        proxy.Stall();
        clock.ForgetArmed();
        Assert.True(a.TrySend(b.PublicKey, Packet));
        Assert.Equal(RelayLiveness.PingAfter, await clock.NextArmedAsync());
        clock.Advance(RelayLiveness.PingAfter);
        Assert.Equal(1, a.ProbesSent);
        Assert.Equal(RelayLiveness.PongTimeout, await clock.NextArmedAsync());
        Assert.True(a.IsConnected);

        clock.Advance(RelayLiveness.PongTimeout);
        await dropped.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("did not answer a ping", a.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_one_way_flow_over_a_working_relay_costs_one_answered_ping_and_keeps_the_connection()
    {
        await using var relay = await TestRelay.StartAsync();
        var clock = new SignallingClock();
        await using var a = await ConnectAsync(relay.RelayUrl, clock);
        await using var b = await TestRelay.ConnectedClientAsync(relay);
        var states = new List<RelayConnectionState>();
        a.StateChanged += s =>
        {
            lock (states)
            {
                states.Add(s);
            }
        };

        clock.ForgetArmed();
        Assert.True(a.TrySend(b.PublicKey, Packet));
        Assert.Equal(a.PublicKey, await ReceiveAsync(b));
        Assert.Equal(RelayLiveness.PingAfter, await clock.NextArmedAsync());
        clock.Advance(RelayLiveness.PingAfter);
        Assert.Equal(RelayLiveness.PongTimeout, await clock.NextArmedAsync());
        await Eventually.TrueAsync(() => a.ProbesAnswered == 1, "the relay to answer the liveness ping");

        // The answer ends the check without waiting for its deadline: the flow's next unanswered send
        // arms the next check at once (a relay that stalls now is found within one check), and the
        // connection was never dropped.
        Assert.True(a.TrySend(b.PublicKey, Packet));
        Assert.Equal(RelayLiveness.PingAfter, await clock.NextArmedAsync());
        Assert.Equal(1, a.ProbesSent);
        Assert.True(a.IsConnected);
        lock (states)
        {
            Assert.Empty(states);
        }
    }

    [Fact]
    public async Task Answered_traffic_sends_no_ping()
    {
        await using var relay = await TestRelay.StartAsync();
        var clock = new SignallingClock();
        await using var a = await ConnectAsync(relay.RelayUrl, clock);
        await using var b = await TestRelay.ConnectedClientAsync(relay);

        clock.ForgetArmed();
        Assert.True(a.TrySend(b.PublicKey, Packet));
        Assert.Equal(a.PublicKey, await ReceiveAsync(b));
        Assert.True(b.TrySend(a.PublicKey, Packet));
        Assert.Equal(b.PublicKey, await ReceiveAsync(a));
        Assert.Equal(RelayLiveness.PingAfter, await clock.NextArmedAsync());
        clock.Advance(RelayLiveness.PingAfter);

        Assert.Equal(0, a.ProbesSent);
        Assert.True(a.IsConnected);
    }

    [Fact]
    public async Task A_reply_expected_from_another_relay_checks_this_one_too()
    {
        await using var relay = await TestRelay.StartAsync();
        await using var proxy = new StallingProxy(relay.RelayUrl);
        var clock = new SignallingClock();
        await using var home = await ConnectAsync(proxy.Url, clock);
        var dropped = Eventually.EventAsync<RelayConnectionState>(h => home.StateChanged += h, s => s != RelayConnectionState.Connected);

        proxy.Stall();
        clock.ForgetArmed();
        home.ExpectReply();
        Assert.Equal(RelayLiveness.PingAfter, await clock.NextArmedAsync());
        clock.Advance(RelayLiveness.PingAfter);
        Assert.Equal(RelayLiveness.PongTimeout, await clock.NextArmedAsync());
        clock.Advance(RelayLiveness.PongTimeout);
        await dropped.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
