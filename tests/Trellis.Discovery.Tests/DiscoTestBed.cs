using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.Crypto;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery.Tests;

/// <summary>
/// Nodes on one in-memory network and one fake relay, under one fake clock, with every disco ping
/// on the wire counted per (source, destination) and stamped with the fake time it left at (the
/// stamp only when <see cref="InMemoryNetwork.Drop"/> lets it through).
/// </summary>
internal sealed class DiscoTestBed : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly ConcurrentDictionary<Endpoint, DiscoSealer> _openers = new();
    private readonly ConcurrentDictionary<(Endpoint, Endpoint), int> _pings = new();
    private readonly ConcurrentDictionary<(Endpoint, Endpoint), DateTimeOffset> _lastPingAt = new();
    private readonly ConcurrentDictionary<Endpoint, DateTimeOffset> _lastPingTo = new();

    public DiscoTestBed()
    {
        Network.Tap = (source, destination, packet) =>
        {
            if (DiscoCodec.IsDisco(packet) && _openers.TryGetValue(destination, out var opener)
                && opener.TryOpen(packet, out _, out var message) && message.Type == DiscoMessageType.Ping)
            {
                _pings.AddOrUpdate((source, destination), 1, (_, n) => n + 1);
                if (Network.Drop?.Invoke(source, destination, packet) != true)
                {
                    _lastPingAt[(source, destination)] = Time.GetUtcNow();
                    _lastPingTo[destination] = Time.GetUtcNow();
                }
            }
        };
    }

    public InMemoryNetwork Network { get; } = new();

    public FakeRelay Relay { get; } = new();

    public FakeTimeProvider Time { get; } = new();

    public TestNode Node(string address, IGuessSocketFactory? guessSockets = null)
    {
        var key = X25519.GeneratePrivateKey();
        var node = new TestNode(Network, address, Relay.Connect(X25519.PublicKey(key)), Time, key, guessSockets);
        _owned.Add(node);
        Watch(node.Local, new DiscoSealer(node.DiscoPrivate));
        return node;
    }

    /// <summary>A node on a dual-stack socket; its candidates are <see cref="DualStackBind.LocalV4"/> and <see cref="DualStackBind.LocalV6"/>.</summary>
    public (TestNode Node, DualStackBind Socket) DualStackNode(string v4, string v6)
    {
        var key = X25519.GeneratePrivateKey();
        var socket = new DualStackBind(Network, v4, v6);
        var node = new TestNode(socket, Relay.Connect(X25519.PublicKey(key)), Time, key);
        _owned.Add(node);
        var opener = new DiscoSealer(node.DiscoPrivate);
        Watch(socket.LocalV4, opener);
        Watch(socket.LocalV6, opener);
        return (node, socket);
    }

    /// <summary>
    /// Waits until every ping that left for one of <paramref name="to"/>'s endpoints at the current fake
    /// time (and was not dropped) has its pong handled by <paramref name="from"/>, so the clock moves on
    /// only after the round trips it started (each then measured as taking no fake time).
    /// </summary>
    public async Task PongsHandledAsync(TestNode from, TestNode to, params Endpoint[] endpoints)
    {
        var now = Time.GetUtcNow();
        foreach (var e in endpoints)
        {
            if (_lastPingTo.TryGetValue(e, out var sentAt) && sentAt == now)
            {
                await TestNode.WaitForAsync(() => from.Bind.CandidateOf(to.NodeKey, e).LastPong >= now, $"the pong from {e}");
            }
        }
    }

    /// <summary>
    /// Waits until every ping <paramref name="from"/> sent <paramref name="to"/> has its pong handled and
    /// the relay holds nothing (no call-me-maybe left to start more), so no pong can land after the
    /// clock moves. Every ping must get an answer: <paramref name="to"/> knew <paramref name="from"/> first.
    /// </summary>
    public Task AnsweredAsync(TestNode from, TestNode to) =>
        TestNode.WaitForAsync(
            () => Relay.Quiet && from.Bind.CandidateOf(to.NodeKey, to.Local).Samples == PingsSent(from.Local, to.Local),
            "the pongs to every ping so far");

    /// <summary>Two nodes that know each other, each announcing its own socket as its candidate.</summary>
    public (TestNode A, TestNode B) Pair()
    {
        var a = Node("10.0.0.1");
        var b = Node("10.0.0.2");
        a.Bind.SetLocalEndpoints([a.Local]);
        b.Bind.SetLocalEndpoints([b.Local]);
        a.Bind.SetPeers([b.AsPeer()]);
        b.Bind.SetPeers([a.AsPeer()]);
        return (a, b);
    }

    public FakePeer FakePeer(string address)
    {
        var peer = new FakePeer(Network, address);
        _owned.Add(peer);
        Watch(peer.Local, peer.Sealer);
        return peer;
    }

    /// <summary>An open socket at a fresh port of <paramref name="address"/> (nobody reads it).</summary>
    public InMemoryBind Socket(string address)
    {
        var socket = Network.CreateBind(Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(address), 0)));
        socket.Open(0);
        _owned.Add(socket);
        return socket;
    }

    /// <summary>Counts pings to <paramref name="destination"/>, opened with the key they are sealed to.</summary>
    public void Watch(Endpoint destination, DiscoSealer opener) => _openers[destination] = opener;

    public int PingsSent(Endpoint from, Endpoint to) => _pings.GetValueOrDefault((from, to));

    /// <summary>
    /// Sends <paramref name="from"/>'s traffic to <paramref name="to"/> for <paramref name="seconds"/>
    /// of fake time, one second at a time; after each second, waits until the latest ping to the
    /// peer's socket has its pong handled, then runs <paramref name="check"/>.
    /// </summary>
    public async Task KeepTrafficAsync(TestNode from, TestNode to, int seconds, Action check)
    {
        for (var s = 0; s < seconds; s++)
        {
            from.SendWireGuard(to.NodeKey);
            Time.Advance(TimeSpan.FromSeconds(1));
            if (_lastPingAt.TryGetValue((from.Local, to.Local), out var sentAt))
            {
                await TestNode.WaitForAsync(() => from.Bind.GetStatus(to.NodeKey)?.LastPong >= sentAt, "the pong to the latest heartbeat");
            }

            check();
        }
    }

    public static void Send(InMemoryBind from, Endpoint to, ReadOnlySpan<byte> data)
    {
        var b = new PacketBuffer();
        data.CopyTo(b.Data);
        b.Length = data.Length;
        b.Endpoint = to;
        from.Send([b]);
    }

    public void Dispose()
    {
        foreach (var o in _owned)
        {
            o.Dispose();
        }
    }
}
