using Microsoft.Extensions.Time.Testing;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.Crypto;
using Trellis.Discovery.Messages;
using Trellis.Net.Stun;

namespace Trellis.Discovery.Tests;

public sealed class DiscoveryBindTests : IDisposable
{
    private readonly InMemoryNetwork _network = new();
    private readonly FakeRelay _relay = new();
    private readonly FakeTimeProvider _time = new();
    private readonly List<TestNode> _nodes = [];
    private long _directWireGuard;

    public DiscoveryBindTests()
    {
        _network.Tap = (src, dst, packet) =>
        {
            if (src.Address != dst.Address && DiscoveryBind.IsWireGuard(packet))
            {
                Interlocked.Increment(ref _directWireGuard);
            }
        };
    }

    private TestNode Node(string address)
    {
        var key = X25519.GeneratePrivateKey();
        var node = new TestNode(_network, address, _relay.Connect(X25519.PublicKey(key)), _time, key);
        _nodes.Add(node);
        return node;
    }

    private (TestNode A, TestNode B) Pair(bool directBlocked)
    {
        if (directBlocked)
        {
            // Only a node's own wake-ups (same address) get through: no direct path between nodes.
            _network.Drop = (src, dst, _) => src.Address != dst.Address;
        }

        var a = Node("10.0.0.1");
        var b = Node("10.0.0.2");
        a.Bind.SetLocalEndpoints([a.Local]);
        b.Bind.SetLocalEndpoints([b.Local]);
        a.Bind.SetPeers([b.AsPeer()]);
        b.Bind.SetPeers([a.AsPeer()]);
        return (a, b);
    }

    [Fact]
    public async Task With_direct_UDP_blocked_packets_flow_over_the_relay()
    {
        var (a, b) = Pair(directBlocked: true);

        a.SendWireGuard(b.NodeKey, 3);
        await TestNode.WaitForAsync(() => b.Received.Count == 3, "relayed packets");

        var synthetic = b.Bind.SyntheticEndpointOf(a.NodeKey)!.Value;
        Assert.All(b.Received, r => Assert.Equal(synthetic, r.Source));
        Assert.Equal(3, a.Bind.RelaySent);
        Assert.Equal(0, a.Bind.DirectSent);
        Assert.Equal(0, Interlocked.Read(ref _directWireGuard));
        Assert.Equal("relay", a.Bind.GetStatus(b.NodeKey)!.Path);
        Assert.Equal(900, a.Bind.GetStatus(b.NodeKey)!.RelayRegion);
    }

    [Fact]
    public async Task Pings_prove_a_direct_path_and_packets_then_go_direct()
    {
        var (a, b) = Pair(directBlocked: false);

        await TestNode.WaitForAsync(() => a.Bind.GetStatus(b.NodeKey)!.Path == "direct" && b.Bind.GetStatus(a.NodeKey)!.Path == "direct", "direct paths");
        Assert.Equal(b.Local, a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint);
        Assert.NotNull(a.Bind.GetStatus(b.NodeKey)!.LastPong);

        a.SendWireGuard(b.NodeKey, 5);
        b.SendWireGuard(a.NodeKey, 2);
        await TestNode.WaitForAsync(() => b.Received.Count == 5 && a.Received.Count == 2, "direct packets");

        Assert.Equal(7, Interlocked.Read(ref _directWireGuard));
        Assert.Equal(0, a.Bind.RelaySent + b.Bind.RelaySent);

        // Sources are the synthetic endpoints, so WireGuard's roaming never sees the real one.
        Assert.All(b.Received, r => Assert.Equal(b.Bind.SyntheticEndpointOf(a.NodeKey), r.Source));
        Assert.All(a.Received, r => Assert.Equal(a.Bind.SyntheticEndpointOf(b.NodeKey), r.Source));
    }

    [Fact]
    public async Task A_direct_path_not_refreshed_for_6_5_s_falls_back_to_the_relay()
    {
        long pings = 0;
        var a = Node("10.0.0.1");
        var b = Node("10.0.0.2");
        var opener = new DiscoSealer(b.DiscoPrivate);
        _network.Tap = (src, dst, packet) =>
        {
            if (src == a.Local && dst == b.Local && opener.TryOpen(packet, out _, out var m) && m.Type == DiscoMessageType.Ping)
            {
                Interlocked.Increment(ref pings);
            }
        };
        a.Bind.SetLocalEndpoints([a.Local]);
        b.Bind.SetLocalEndpoints([b.Local]);

        // B knows A first, so B answers every ping A sends.
        b.Bind.SetPeers([a.AsPeer()]);
        a.Bind.SetPeers([b.AsPeer()]);
        await TestNode.WaitForAsync(() => a.Bind.GetStatus(b.NodeKey)!.Path == "direct", "direct path");

        // Every ping A sent B so far answered (also those a call-me-maybe still on the relay starts):
        // a pong handled after the clock moves would prove the path anew.
        await TestNode.WaitForAsync(
            () => _relay.Quiet && a.Bind.CandidateOf(b.NodeKey, b.Local).Samples == Interlocked.Read(ref pings),
            "the pongs to every ping so far");

        _network.Drop = (src, dst, _) => src.Address != dst.Address;
        _time.Advance(TimeSpan.FromSeconds(7));

        Assert.Equal("relay", a.Bind.GetStatus(b.NodeKey)!.Path);
        a.SendWireGuard(b.NodeKey);
        await TestNode.WaitForAsync(() => b.Received.Count == 1, "relayed packet");
        Assert.Equal(1, a.Bind.RelaySent);
    }

    [Fact]
    public async Task Heartbeats_keep_the_direct_path_while_traffic_flows()
    {
        using var bed = new DiscoTestBed();
        var (a, b) = bed.Pair();
        await TestNode.WaitForAsync(() => a.Bind.GetStatus(b.NodeKey)!.Path == "direct", "direct path");

        // Each second of fake time waits for the pong to the latest heartbeat (or re-probe) before moving on.
        await bed.KeepTrafficAsync(a, b, 20, () => Assert.Equal("direct", a.Bind.GetStatus(b.NodeKey)!.Path));

        Assert.Equal(0, a.Bind.RelaySent);
    }

    [Fact]
    public async Task Ping_reports_the_direct_path_when_it_works()
    {
        var (a, b) = Pair(directBlocked: false);
        await TestNode.WaitForAsync(() => a.Bind.GetStatus(b.NodeKey)!.Path == "direct", "direct path");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _relay.Up = false;
        var result = await a.Bind.PingAsync(b.NodeKey, cts.Token);

        Assert.NotNull(result);
        Assert.Equal("direct", result.Path);
        Assert.Equal(b.Local, result.Endpoint);
    }

    [Fact]
    public async Task Ping_reports_the_relay_when_direct_is_blocked()
    {
        var (a, b) = Pair(directBlocked: true);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var result = await a.Bind.PingAsync(b.NodeKey, cts.Token);

        Assert.NotNull(result);
        Assert.Equal("relay", result.Path);
        Assert.Equal(900, result.RelayRegion);
        Assert.Null(await a.Bind.PingAsync(X25519.PublicKey(X25519.GeneratePrivateKey()), cts.Token));
    }

    [Fact]
    public async Task Stun_disco_and_WireGuard_are_told_apart()
    {
        var a = Node("10.0.0.1");
        var stranger = _network.CreateBind(Endpoint.FromAddressBytes([10, 0, 0, 9], 0));
        stranger.Open(0);
        var strangerNode = X25519.PublicKey(X25519.GeneratePrivateKey());
        var strangerDisco = new DiscoSealer(X25519.GeneratePrivateKey());
        a.Bind.SetPeers([new DiscoPeer(strangerNode, strangerDisco.PublicKey, [])]);
        var stun = new List<Endpoint>();
        a.Bind.StunHandler = (packet, source) =>
        {
            lock (stun)
            {
                stun.Add(source);
            }
        };

        var buffer = new byte[256];
        var stunLength = StunPacket.WriteBindingRequest(buffer, StunTransactionId.NewRandom());
        Send(stranger, a.Local, buffer.AsSpan(0, stunLength));
        await TestNode.WaitForAsync(() => { lock (stun) { return stun.Count == 1; } }, "STUN");
        Assert.Equal(1, a.Bind.StunReceived);
        lock (stun)
        {
            Assert.Equal(stranger.LocalEndpoint, Assert.Single(stun));
        }

        // WireGuard from an unproven source passes up with its own source.
        Send(stranger, a.Local, [1, 0, 0, 0, 42]);
        await TestNode.WaitForAsync(() => a.Received.Count == 1, "WireGuard");
        Assert.True(a.Received.TryDequeue(out var first));
        Assert.Equal(stranger.LocalEndpoint, first.Source);

        // Garbage is counted and dropped.
        Send(stranger, a.Local, [9, 9, 9, 9, 9]);
        await TestNode.WaitForAsync(() => a.Bind.UnknownDropped == 1, "unknown dropped");

        // A disco ping is answered with a pong naming our source, and the source becomes the peer's.
        var tx = DiscoTxId.New();
        var n = strangerDisco.Seal(a.Bind.DiscoPublicKey, DiscoMessage.Ping(tx, strangerNode), buffer);
        Send(stranger, a.Local, buffer.AsSpan(0, n));
        var reply = PacketBuffer.AllocateBatch(4);
        DiscoMessage pong = default;
        var gotPong = false;
        while (!gotPong)
        {
            var m = stranger.Receive(reply);
            for (var i = 0; i < m && !gotPong; i++)
            {
                gotPong = strangerDisco.TryOpen(reply[i].Packet, out _, out pong) && pong.Type == DiscoMessageType.Pong;
            }
        }

        Assert.Equal(tx, pong.TxId);
        Assert.Equal(stranger.LocalEndpoint, pong.Observed);

        Send(stranger, a.Local, [4, 0, 0, 0, 43]);
        await TestNode.WaitForAsync(() => a.Received.Count == 1, "WireGuard from a proven source");
        Assert.True(a.Received.TryDequeue(out var second));
        Assert.Equal(a.Bind.SyntheticEndpointOf(strangerNode), second.Source);
    }

    [Fact]
    public async Task Malformed_disco_messages_are_dropped_and_counted()
    {
        var a = Node("10.0.0.1");
        var stranger = _network.CreateBind(Endpoint.FromAddressBytes([10, 0, 0, 9], 0));
        stranger.Open(0);
        var unknown = new DiscoSealer(X25519.GeneratePrivateKey());
        var rng = new Random(7);
        var buffer = new byte[DiscoCodec.MaxPacketSize];

        var sent = 0;
        for (var i = 0; i < 200; i++)
        {
            var junk = new byte[rng.Next(DiscoCodec.MagicSize, 200)];
            rng.NextBytes(junk);
            DiscoCodec.Magic.CopyTo(junk);
            Send(stranger, a.Local, junk);
            sent++;
        }

        // Well formed, but from a disco key that is no peer's.
        var n = unknown.Seal(a.Bind.DiscoPublicKey, DiscoMessage.Ping(DiscoTxId.New(), default), buffer);
        Send(stranger, a.Local, buffer.AsSpan(0, n));
        sent++;

        await TestNode.WaitForAsync(() => a.Bind.DiscoDropped == sent, "drops counted");
        Assert.Equal(0, a.Bind.DiscoReceived);
        Assert.Empty(a.Received);

        // The receive loop is still alive.
        Send(stranger, a.Local, [4, 0, 0, 0, 1]);
        await TestNode.WaitForAsync(() => a.Received.Count == 1, "WireGuard after junk");
    }

    [Fact]
    public async Task A_restarted_peer_with_a_new_disco_key_is_rediscovered()
    {
        var (a, b) = Pair(directBlocked: false);
        await TestNode.WaitForAsync(() => a.Bind.GetStatus(b.NodeKey)!.Path == "direct", "direct path");
        var synthetic = a.Bind.SyntheticEndpointOf(b.NodeKey);

        var b2 = new TestNode(_network, "10.0.0.3", _relay.Connect(b.NodeKey), _time, b.NodePrivate);
        _nodes.Add(b2);
        b2.Bind.SetPeers([a.AsPeer()]);
        a.Bind.SetPeers([b2.AsPeer()]);

        Assert.Equal(synthetic, a.Bind.SyntheticEndpointOf(b.NodeKey));
        await TestNode.WaitForAsync(() => a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint == b2.Local, "new direct path");
    }

    private static void Send(InMemoryBind from, Endpoint to, ReadOnlySpan<byte> data)
    {
        var b = new PacketBuffer();
        data.CopyTo(b.Data);
        b.Length = data.Length;
        b.Endpoint = to;
        from.Send([b]);
    }

    public void Dispose()
    {
        foreach (var n in _nodes)
        {
            n.Dispose();
        }
    }
}
