using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Relay.Client;
using Trellis.Relay.Protocol;

namespace Trellis.Relay.Tests;

public class RelayExchangeTests
{
    [Fact]
    public async Task Two_clients_exchange_many_packets_both_ways_byte_exact()
    {
        await using var relay = await TestRelay.StartAsync();
        await using var a = await TestRelay.ConnectedClientAsync(relay);
        await using var b = await TestRelay.ConnectedClientAsync(relay);

        await PacketExchange.BothWaysAsync(a, b, 2000);

        var stats = relay.Server.Stats;
        Assert.Equal(2, stats.Clients);
        Assert.Equal(4000, stats.PacketsForwarded);
        Assert.Equal(0, stats.DropsQueueFull);
        Assert.Equal(relay.Server.PublicKey, a.ServerKey);
    }

    [Fact]
    public async Task A_batch_queued_without_waking_the_writer_arrives_whole_and_in_order_after_the_flush()
    {
        await using var relay = await TestRelay.StartAsync();
        await using var a = await TestRelay.ConnectedClientAsync(relay);
        await using var b = await TestRelay.ConnectedClientAsync(relay);

        // Batches as a node's data path hands them over (up to 128 packets), more than the send
        // queue holds in all: a full queue makes the sender wait for the writer instead of dropping.
        const int batches = 8, batchSize = 128;
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        for (var batch = 0; batch < batches; batch++)
        {
            for (var i = batch * batchSize; i < (batch + 1) * batchSize; i++)
            {
                Assert.True(a.TryQueue(b.PublicKey, PacketExchange.Packet(i, 1 + (i % 1400), seed: 5), TimeSpan.FromMinutes(1)), $"packet {i} dropped");
            }

            a.Flush();
        }

        for (var i = 0; i < batches * batchSize; i++)
        {
            using var packet = await b.Packets.ReadAsync(cancel.Token);
            Assert.Equal(a.PublicKey, packet.Source);
            Assert.True(PacketExchange.Packet(i, 1 + (i % 1400), seed: 5).AsSpan().SequenceEqual(packet.Span), $"packet {i} differs");
        }

        Assert.Equal(0, a.SendDrops);
    }

    [Fact]
    public async Task The_WebSocket_fallback_carries_the_same_frames()
    {
        await using var relay = await TestRelay.StartAsync();
        await using var a = await TestRelay.ConnectedClientAsync(relay, o => o with { Transport = RelayTransport.WebSocket });
        await using var b = await TestRelay.ConnectedClientAsync(relay);
        Assert.True(a.UsesWebSocket);
        Assert.False(b.UsesWebSocket);

        await PacketExchange.BothWaysAsync(a, b, 500);
    }

    [Fact]
    public async Task A_pinned_server_key_that_does_not_match_is_refused_by_the_client()
    {
        await using var relay = await TestRelay.StartAsync();
        await using var client = TestRelay.Client(relay, configure: o => o with { ServerKey = X25519.PublicKey(X25519.GeneratePrivateKey()) });
        var e = await Assert.ThrowsAsync<RelayConnectException>(() => client.ConnectAsync());
        Assert.Contains("not the expected", e.Message, StringComparison.Ordinal);

        await using var pinned = TestRelay.Client(relay, configure: o => o with { ServerKey = relay.Server.PublicKey });
        await pinned.ConnectAsync();
    }

    [Fact]
    public async Task Ping_measures_a_round_trip_and_preferred_is_noted()
    {
        await using var relay = await TestRelay.StartAsync();
        await using var client = await TestRelay.ConnectedClientAsync(relay);
        var rtt = await client.PingAsync();
        Assert.InRange(rtt, TimeSpan.Zero, TimeSpan.FromSeconds(5));

        client.NotePreferred(true);
        await Eventually.TrueAsync(() => relay.Server.Stats.HomeClients == 1, "the relay to note its home client");
    }

    [Fact]
    public async Task A_peer_that_leaves_is_reported_gone_to_those_that_sent_to_it()
    {
        await using var relay = await TestRelay.StartAsync();
        await using var a = await TestRelay.ConnectedClientAsync(relay);
        var b = await TestRelay.ConnectedClientAsync(relay);
        await using var bystander = await TestRelay.ConnectedClientAsync(relay);
        var gone = Eventually.EventAsync<(Key Key, PeerGoneReason Reason)>(h => a.PeerGone += (k, r) => h((k, r)), _ => true);
        var bystanderHeard = false;
        bystander.PeerGone += (_, _) => bystanderHeard = true;

        await PacketExchange.OneWayAsync(a, b, 10, seed: 3);
        var bKey = b.PublicKey;
        await b.DisposeAsync();

        var (key, reason) = await gone.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(bKey, key);
        Assert.Equal(PeerGoneReason.Disconnected, reason);
        Assert.False(bystanderHeard);
    }

    [Fact]
    public async Task Sending_to_a_key_nobody_holds_answers_not_here()
    {
        await using var relay = await TestRelay.StartAsync();
        await using var a = await TestRelay.ConnectedClientAsync(relay);
        var nobody = X25519.PublicKey(X25519.GeneratePrivateKey());
        var gone = Eventually.EventAsync<(Key Key, PeerGoneReason Reason)>(h => a.PeerGone += (k, r) => h((k, r)), _ => true);

        Assert.True(await a.SendAsync(nobody, new byte[100]));
        Assert.Equal((nobody, PeerGoneReason.NotHere), await gone.WaitAsync(TimeSpan.FromSeconds(10)));
        await Eventually.TrueAsync(() => relay.Server.Stats.DropsUnknownDestination == 1, "the drop to be counted");
    }

    [Fact]
    public async Task The_same_key_connecting_again_replaces_the_old_connection()
    {
        await using var relay = await TestRelay.StartAsync();
        var key = X25519.GeneratePrivateKey();
        await using var sender = await TestRelay.ConnectedClientAsync(relay);
        var first = TestRelay.Client(relay, key, o => o with { ReconnectBaseDelay = TimeSpan.FromSeconds(30), ReconnectMaxDelay = TimeSpan.FromSeconds(30) });
        await first.ConnectAsync();
        var firstDropped = Eventually.EventAsync<RelayConnectionState>(h => first.StateChanged += h, s => s == RelayConnectionState.Disconnected);

        await using var second = TestRelay.Client(relay, key);
        await second.ConnectAsync();
        await firstDropped.WaitAsync(TimeSpan.FromSeconds(10));
        await first.DisposeAsync();

        await PacketExchange.OneWayAsync(sender, second, 20, seed: 5);
        // The first client hears its connection close before the relay's handler for it has ended and
        // left the relay's list, so the count is waited for, not read once.
        await Eventually.TrueAsync(() => relay.Server.Stats.Clients == 2, "the relay counting the sender and the second connection only");
    }
}
