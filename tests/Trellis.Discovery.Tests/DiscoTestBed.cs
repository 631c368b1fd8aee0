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
/// on the wire counted per (source, destination). A test moves the clock only once the nodes have
/// settled (<see cref="SettledAsync"/>): nodes answer on their own threads, in real time.
/// </summary>
internal sealed class DiscoTestBed : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly List<TestNode> _nodes = [];
    private readonly ConcurrentDictionary<Endpoint, DiscoSealer> _openers = new();
    private readonly ConcurrentDictionary<(Endpoint, Endpoint), int> _pings = new();

    public DiscoTestBed()
    {
        Network.Tap = (source, destination, packet) =>
        {
            if (DiscoCodec.IsDisco(packet) && _openers.TryGetValue(destination, out var opener)
                && opener.TryOpen(packet, out _, out var message) && message.Type == DiscoMessageType.Ping)
            {
                _pings.AddOrUpdate((source, destination), 1, (_, n) => n + 1);
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
        _nodes.Add(node);
        Watch(node.Local, new DiscoSealer(node.DiscoPrivate));
        return node;
    }

    /// <summary>
    /// A node on a dual-stack socket; its candidates are <see cref="DualStackBind.LocalV4"/> and
    /// <see cref="DualStackBind.LocalV6"/>. Its IPv6 datagrams leave <paramref name="v6Delay"/> late on the bed's clock.
    /// </summary>
    public (TestNode Node, DualStackBind Socket) DualStackNode(string v4, string v6, TimeSpan v6Delay = default)
    {
        var key = X25519.GeneratePrivateKey();
        var socket = new DualStackBind(Network, v4, v6, Time, v6Delay);
        var node = new TestNode(socket, Relay.Connect(X25519.PublicKey(key)), Time, key);
        _owned.Add(node);
        _nodes.Add(node);
        var opener = new DiscoSealer(node.DiscoPrivate);
        Watch(socket.LocalV4, opener);
        Watch(socket.LocalV6, opener);
        return (node, socket);
    }

    /// <summary>
    /// Waits until nothing is on its way between the nodes: the relay holds nothing and every node has
    /// handled every datagram delivered to its socket, answers included. Call it before moving the
    /// clock, so every round trip started at this fake time ends at it, and before a check of state
    /// that a late answer would still change.
    /// </summary>
    public Task SettledAsync() => TestNode.WaitForAsync(Settled, "the nodes to handle everything sent to them");

    private bool Settled()
    {
        // Twice around: a node that sent while the others were looked at shows as a datagram delivered
        // in between (the network queues synchronously, before the sender is idle again).
        var before = DeliveredSoFar();
        return Relay.Quiet && _nodes.TrueForAll(n => n.Socket.Idle) && Relay.Quiet && DeliveredSoFar() == before;
    }

    private long DeliveredSoFar() => _nodes.Sum(n => n.Socket.Delivered) + Interlocked.Read(ref Relay.Forwarded);

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
    /// of fake time, one second at a time; after each second, waits until everything it sent is
    /// handled (<see cref="SettledAsync"/>), then runs <paramref name="check"/>.
    /// </summary>
    public async Task KeepTrafficAsync(TestNode from, TestNode to, int seconds, Action check)
    {
        await SettledAsync();
        for (var s = 0; s < seconds; s++)
        {
            from.SendWireGuard(to.NodeKey);
            Time.Advance(TimeSpan.FromSeconds(1));
            await SettledAsync();
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
